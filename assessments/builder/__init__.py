"""The instrument builder: a line format an administrator can type, and saving versions.

`parsing` reads the line format part by part, `text` turns the five texts into a definition and
back, `services` saves versions and `selectors` reads them."""
