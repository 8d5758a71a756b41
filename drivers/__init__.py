"""In-tree COE drivers: one directory per driver, its name is the directory name."""
