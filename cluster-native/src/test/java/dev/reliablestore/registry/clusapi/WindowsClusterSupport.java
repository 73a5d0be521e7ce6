package dev.reliablestore.registry.clusapi;

import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import dev.reliablestore.registry.clusapi.jna.ClusApi;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes;

/**
 * For the Windows-only tests: which cluster ({@value #ENV}, "." for the local one) and how to remove
 * a test's base key afterwards.
 */
final class WindowsClusterSupport {

    /** Names the cluster the Windows-only tests may write to (below {@code ReliableStoreTest\}). */
    static final String ENV = "RELIABLESTORE_TEST_CLUSTER";

    private WindowsClusterSupport() {
    }

    /** The URI authority: empty for the local cluster. */
    static String authority() {
        String c = System.getenv(ENV);
        return c == null || c.equals(".") ? "" : c;
    }

    static String clusterNameOrNull() {
        String a = authority();
        return a.isEmpty() ? null : a;
    }

    /** Deletes {@code path} (below the cluster root) with one batch {@code DELETE_KEY} (recursive). */
    static void deleteTree(ClusApi api, String path) {
        try (Cluster c = Cluster.open(api, clusterNameOrNull()); ClusterKey root = c.rootKey(ClusApiTypes.KEY_ALL_ACCESS)) {
            PointerByReference b = new PointerByReference();
            if (api.ClusterRegCreateBatch(root.handle(), b) != 0) {
                return;
            }
            ClusApiTypes.HREGBATCH batch = new ClusApiTypes.HREGBATCH(b.getValue());
            api.ClusterRegBatchAddCommand(batch, ClusApiTypes.CLUSREG_DELETE_KEY, path, 0, null, 0);
            api.ClusterRegCloseBatch(batch, true, new IntByReference());
        }
    }
}
