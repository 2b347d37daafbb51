"""MongoDB access: connection, one repository per collection, indexes, demo seed."""
