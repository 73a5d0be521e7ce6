package dev.reliablestore.registry.clusapi;

import com.sun.jna.Platform;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.spi.ClusterRegistryBackend;

import java.net.URI;
import java.util.Map;

/**
 * The {@code clusapi://<cluster>[/<base key>]} backend: the Windows Failover Cluster database through
 * clusapi.dll (JNA). Windows only; elsewhere opening fails with a {@link RegistryUnavailableException}
 * naming the operating system. Options: see docs/windows.md.
 */
public final class ClusapiBackend implements ClusterRegistryBackend {

    @Override
    public String scheme() {
        return "clusapi";
    }

    @Override
    public ClusterRegistry open(URI uri, Map<String, String> options) {
        ClusapiOptions parsed = ClusapiOptions.parse(uri, options);
        if (!Platform.isWindows()) {
            throw new RegistryUnavailableException("the clusapi backend needs Windows Server with the Failover Clustering "
                    + "feature (clusapi.dll); this JVM runs on " + System.getProperty("os.name") + " "
                    + System.getProperty("os.version") + " (" + System.getProperty("os.arch") + "), so " + parsed.uri()
                    + " cannot be opened; use embedded: or zookeeper:// here", null);
        }
        ClusapiNatives natives;
        try {
            natives = ClusapiNatives.windows();
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new RegistryUnavailableException("clusapi.dll or resutils.dll cannot be loaded (is the Failover Clustering "
                    + "feature or its management tools installed?): " + e.getMessage(), e);
        }
        return ClusapiRegistry.open(parsed, natives);
    }

    @Override
    public java.util.Set<String> optionNames() {
        return ClusapiOptions.TABLE.names();
    }
}
