"""Test support shared by several test modules: the moto server, the HTTP fault double, fixtures."""
