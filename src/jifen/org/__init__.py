"""Towns, departments and the routing table (department -> rules it is responsible for)."""
