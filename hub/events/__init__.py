"""Camera events: the cameras' own analytics taken in, stored, published and served."""
