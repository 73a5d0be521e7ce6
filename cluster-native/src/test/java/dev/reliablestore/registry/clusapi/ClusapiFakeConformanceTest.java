package dev.reliablestore.registry.clusapi;

import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.conformance.ClusterRegistryConformance;

import java.net.URI;
import java.util.Map;

/** The clusapi backend over the in-memory fake of clusapi.dll passes the whole conformance suite. */
class ClusapiFakeConformanceTest extends ClusterRegistryConformance {

    protected FakeClusApi fake;

    /** Hook for the variant with the other reading of the unverified facts. */
    protected FakeClusApi newFake() {
        return new FakeClusApi("FAKECLUSTER", "NODE1", "NODE2", "NODE3");
    }

    protected Map<String, String> options() {
        return Map.of("localNode", "NODE1");
    }

    @Override
    protected ClusterRegistry openRegistry() {
        fake = newFake();
        return open();
    }

    private ClusterRegistry open() {
        ClusapiOptions o = ClusapiOptions.parse(URI.create("clusapi://FAKECLUSTER/Software/ReliableStoreTest"), options());
        return ClusapiRegistry.open(o, new ClusapiNatives(fake, fake, fake, fake.waiter()));
    }

    @Override
    protected ClusterRegistry reopen(ClusterRegistry current) {
        current.close();
        return open();
    }
}
