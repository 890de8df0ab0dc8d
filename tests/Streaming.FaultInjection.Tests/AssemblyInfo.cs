// Services in one test process share prometheus-net's static registry: metric assertions need the
// classes that host services to run one after another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
