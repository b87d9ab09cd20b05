"""DevStack DVR deployment toolkit: inventory, planner, validator and node checker."""
