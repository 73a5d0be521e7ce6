package dev.reliablestore.cluster.backends;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.BackendsTestSupport;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.registry.clusapi.ClusapiTestAccess;
import dev.reliablestore.registry.clusapi.FakeClusApi;
import dev.reliablestore.tck.ValueFidelityTck;

import java.net.URI;
import java.util.Map;
import java.util.Optional;

/** The value-fidelity kit on the clusapi backend over {@link FakeClusApi}, compression and the local cache on. */
class ClusapiValueFidelityTest extends ValueFidelityTck {

    private static final URI URI_ = URI.create("clusapi://FAKECLUSTER/Software/ReliableStoreFidelity");
    private FakeClusApi fake;

    private StoreFactory open() {
        return BackendsTestSupport.factoryOwning(ClusterPersistenceConfiguration.builder()
                        .clusterName(URI_.toString())
                        .resourceGroupName("ReliableStore-RG")
                        .registryKeyPath("Software\\ReliableStore\\Fidelity")
                        .enableCompression(true)
                        .enableLocalCache(true)
                        .build(),
                ClusapiTestAccess.open(fake, URI_, Map.of("localNode", "NODE1")));
    }

    @Override
    protected StoreFactory openFactory() {
        fake = new FakeClusApi("FAKECLUSTER", "NODE1", "NODE2", "NODE3");
        return open();
    }

    @Override
    protected Optional<StoreFactory> reopenFactory() {
        return Optional.of(open());
    }
}
