package dev.reliablestore.registry.clusapi;

import com.sun.jna.Memory;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.CLUSTER_HEALTH_FAULT;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.CLUSTER_HEALTH_FAULT_ARRAY;
import dev.reliablestore.registry.clusapi.jna.ResUtils;

import java.util.ArrayList;
import java.util.List;

/** Cluster health faults through resutils.dll ({@code ClusGet/Add/RemoveClusterHealthFault}). */
final class HealthFaults {

    private final ResUtils resUtils;
    private final ResUtils.Cdecl cdecl;

    HealthFaults(ResUtils resUtils, ResUtils.Cdecl cdecl) {
        this.resUtils = resUtils;
        this.cdecl = cdecl;
    }

    /**
     * A fault as the cluster stores it (the id is not limited to the contract's name rules).
     *
     * @param id          the fault's id
     * @param errorType   its class
     * @param errorCode   its code
     * @param description text for people
     * @param provider    who raised it
     * @param flags       provider flags
     */
    record NativeFault(String id, int errorType, int errorCode, String description, String provider, int flags) {
    }

    /** Every fault; the array the DLL allocated is freed with {@code FreeClusterHealthFaultArray}. */
    List<NativeFault> list(Cluster cluster) {
        CLUSTER_HEALTH_FAULT_ARRAY array = new CLUSTER_HEALTH_FAULT_ARRAY();
        int rc = resUtils.ClusGetClusterHealthFaults(cluster.handle(), array, 0);
        if (rc != ClusApiTypes.ERROR_SUCCESS) {
            throw new ClusterApiException("ClusGetClusterHealthFaults", rc);
        }
        try {
            List<NativeFault> out = new ArrayList<>(array.numFaults);
            if (array.numFaults > 0) {
                CLUSTER_HEALTH_FAULT first = new CLUSTER_HEALTH_FAULT(array.faults);
                first.read();
                CLUSTER_HEALTH_FAULT[] faults = (CLUSTER_HEALTH_FAULT[]) first.toArray(array.numFaults);
                for (CLUSTER_HEALTH_FAULT f : faults) {
                    String provider = Utf16.fromNative(f.Provider);
                    String description = Utf16.fromNative(f.Description);
                    out.add(new NativeFault(Utf16.fromNative(f.Id), f.ErrorType, f.ErrorCode,
                            description == null ? "" : description, provider == null ? "" : provider, f.Flags));
                }
            }
            return out;
        } finally {
            cdecl.FreeClusterHealthFaultArray(array);
        }
    }

    void add(Cluster cluster, NativeFault fault) {
        Memory id = Utf16.toNative(fault.id());
        Memory description = Utf16.toNative(fault.description());
        Memory provider = Utf16.toNative(fault.provider());
        CLUSTER_HEALTH_FAULT f = new CLUSTER_HEALTH_FAULT();
        f.Id = id;
        f.ErrorType = fault.errorType();
        f.ErrorCode = fault.errorCode();
        f.Description = description;
        f.Provider = provider;
        f.Flags = fault.flags();
        int rc = resUtils.ClusAddClusterHealthFault(cluster.handle(), f, 0);
        if (rc != ClusApiTypes.ERROR_SUCCESS) {
            throw new ClusterApiException("ClusAddClusterHealthFault", rc, fault.id());
        }
        // keep the strings reachable until the call has returned
        java.lang.ref.Reference.reachabilityFence(id);
        java.lang.ref.Reference.reachabilityFence(description);
        java.lang.ref.Reference.reachabilityFence(provider);
    }

    void remove(Cluster cluster, String id) {
        int rc = resUtils.ClusRemoveClusterHealthFault(cluster.handle(), id, 0);
        if (rc != ClusApiTypes.ERROR_SUCCESS) {
            throw new ClusterApiException("ClusRemoveClusterHealthFault", rc, id);
        }
    }
}
