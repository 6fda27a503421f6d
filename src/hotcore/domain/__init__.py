"""Pure deciders, one folder per aggregate: decide, evolve, initial state and fold. No I/O."""
