//! Azure Event Grid protocol core (being built).
