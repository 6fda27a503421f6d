"""Lives in the test layer folder; importable only if the layer is on the path."""

WHERE = "layer"
