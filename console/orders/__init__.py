"""Orders: the transition table, transition(), operations, after-sales, appointments, list
queries and the demo generator."""
