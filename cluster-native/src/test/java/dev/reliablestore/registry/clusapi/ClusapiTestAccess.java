package dev.reliablestore.registry.clusapi;

import dev.reliablestore.registry.ClusterRegistry;

import java.net.URI;
import java.util.Map;

/**
 * Test-only door to the package-private clusapi backend: opens {@code ClusapiRegistry} over a
 * {@link FakeClusApi} from another module's tests (the provider TCK), exactly as this package's
 * own tests do. Ships in the cluster-native test-jar, never in the main jar.
 */
public final class ClusapiTestAccess {

    private ClusapiTestAccess() {
    }

    /**
     * Opens the clusapi registry named by {@code uri} ({@code clusapi://<cluster>/<base key>}) with the
     * backend's {@code options}, calling the fake's clusapi.dll and resutils.dll instead of Windows'.
     */
    public static ClusterRegistry open(FakeClusApi fake, URI uri, Map<String, String> options) {
        return ClusapiRegistry.open(ClusapiOptions.parse(uri, options), new ClusapiNatives(fake, fake, fake, fake.waiter()));
    }
}
