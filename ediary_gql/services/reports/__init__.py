"""Reports: requesting them (the queue), building their documents from the diary,
the worker that renders and stores them, templates and teachers' remarks."""
