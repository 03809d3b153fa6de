"""Process-wide sharing of reads between concurrent tasks: micro-batches and single flights."""
