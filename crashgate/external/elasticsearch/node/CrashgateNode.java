import org.codelibs.elasticsearch.runner.ElasticsearchClusterRunner;

/**
 * Runs one Elasticsearch node (the real server classes and modules from Maven Central, started
 * through codelibs' ElasticsearchClusterRunner) bound to 127.0.0.1 only.
 *
 * Usage: java -cp ... CrashgateNode BASE_DIR HTTP_PORT CLUSTER_NAME
 *
 * The node lives in BASE_DIR/node_1/{config,data,logs}. It stops (cleanly: the shutdown hook
 * closes the node) on SIGTERM/SIGINT, and when its standard input reaches end-of-file, so a
 * parent process that dies without stopping it does not leave an orphan JVM behind.
 */
public final class CrashgateNode {
    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: CrashgateNode BASE_DIR HTTP_PORT CLUSTER_NAME");
            System.exit(2);
        }
        final String port = args[1];
        final ElasticsearchClusterRunner runner = new ElasticsearchClusterRunner();
        runner.setMaxHttpPort(-1); // take http.port as given, don't probe 9200-9299
        runner.onBuild((index, settings) -> settings
                .put("http.port", port)
                .put("network.host", "127.0.0.1")
                .put("discovery.type", "single-node")
                .put("action.auto_create_index", "true")
                .put("cluster.routing.allocation.disk.threshold_enabled", "false")
                // the parent circuit breaker on real heap usage trips under the serial
                // collector, which lets the heap fill up before collecting (bulk requests
                // then fail with 429 circuit_breaking_exception)
                .put("indices.breaker.total.use_real_memory", "false"));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (Exception e) {
                System.err.println("error closing the node: " + e);
            }
        }, "crashgate-node-shutdown"));
        runner.build("-basePath", args[0], "-numOfNode", "1", "-clusterName", args[2]);
        System.out.println("crashgate-node: started, http port " + port);
        while (System.in.read() != -1) {
            // block until the parent closes our stdin (or dies)
        }
        System.out.println("crashgate-node: stdin closed, stopping");
        System.exit(0);
    }
}
