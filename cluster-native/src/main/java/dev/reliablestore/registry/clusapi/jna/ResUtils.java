package dev.reliablestore.registry.clusapi.jna;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.win32.StdCallLibrary;
import com.sun.jna.win32.W32APIOptions;

/**
 * The raw binding of the health-fault functions of {@code resutils.dll} (Windows Server 2016 and
 * later). {@code ClusGet/Add/RemoveClusterHealthFault} are {@code WINAPI} (stdcall); the
 * {@code Initialize/Free} helpers are declared without {@code WINAPI} in {@code Resapi.h}, i.e.
 * cdecl on x86, so they live in {@link Cdecl}, loaded from the same DLL with the C calling
 * convention. On x64 both conventions are the same.
 *
 * <p>Loaded on first use of {@link #instance()} / {@link Cdecl#instance()} only.
 */
public interface ResUtils extends StdCallLibrary, ClusApiTypes {

    /** The loaded {@code resutils.dll}; loads it on first call (Windows only). */
    static ResUtils instance() {
        return Loader.INSTANCE;
    }

    /** Holds the singleton so that loading happens on first use only. */
    final class Loader {
        private Loader() {
        }

        static final ResUtils INSTANCE = Native.load("resutils", ResUtils.class, W32APIOptions.UNICODE_OPTIONS);
        static final Cdecl CDECL = Native.load("resutils", Cdecl.class, W32APIOptions.UNICODE_OPTIONS);
    }

    /**
     * Fills {@code objects}; its {@code faults} array is allocated by the DLL and is released with
     * {@link Cdecl#FreeClusterHealthFaultArray} (ownership is undocumented; see docs/windows.md).
     */
    int ClusGetClusterHealthFaults(HCLUSTER hCluster, CLUSTER_HEALTH_FAULT_ARRAY objects, int flags);

    int ClusRemoveClusterHealthFault(HCLUSTER hCluster, String id, int flags);

    int ClusAddClusterHealthFault(HCLUSTER hCluster, CLUSTER_HEALTH_FAULT failure, int flags);

    /** The cdecl helpers of {@code resutils.dll}. */
    interface Cdecl extends Library, ClusApiTypes {

        static Cdecl instance() {
            return Loader.CDECL;
        }

        int InitializeClusterHealthFault(CLUSTER_HEALTH_FAULT clusterHealthFault);

        int InitializeClusterHealthFaultArray(CLUSTER_HEALTH_FAULT_ARRAY clusterHealthFaultArray);

        int FreeClusterHealthFault(CLUSTER_HEALTH_FAULT clusterHealthFault);

        int FreeClusterHealthFaultArray(CLUSTER_HEALTH_FAULT_ARRAY clusterHealthFaultArray);
    }
}
