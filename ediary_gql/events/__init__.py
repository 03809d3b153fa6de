"""Events: typed messages on named channels, published after commit."""
