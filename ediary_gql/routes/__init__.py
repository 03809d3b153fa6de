"""Plain HTTP routes beside /graphql (downloads and their guards)."""
