"""Process side of `ray.util.metrics`: values recorded here go to the node manager in batches."""
