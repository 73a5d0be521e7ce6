package dev.reliablestore.registry.clusapi;

import com.sun.jna.Native;
import com.sun.jna.platform.win32.WinReg;
import com.sun.jna.ptr.IntByReference;
import dev.reliablestore.registry.clusapi.jna.ClusApi;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.HCLUSENUM;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.HCLUSTER;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.HGROUP;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.HNODE;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A connection to a failover cluster ({@code HCLUSTER}) with the calls ReliableStore needs, errors
 * as {@link ClusterApiException}. {@code OpenCluster(null)} gives an LPC handle to the local cluster,
 * a name gives an RPC handle; every object handle derived from it is of the same kind.
 */
public final class Cluster implements AutoCloseable {

    private final ClusApi api;
    private final HCLUSTER handle;
    private final String requestedName;
    private volatile boolean closed;

    private Cluster(ClusApi api, HCLUSTER handle, String requestedName) {
        this.api = api;
        this.handle = handle;
        this.requestedName = requestedName;
    }

    /** Opens the named cluster, or the local one when {@code name} is null. */
    public static Cluster open(ClusApi api, String name) {
        HCLUSTER h = api.OpenCluster(name);
        if (h == null) {
            throw new ClusterApiException("OpenCluster", Native.getLastError(), name == null ? "local cluster" : name);
        }
        return new Cluster(api, h, name);
    }

    public ClusApi api() {
        return api;
    }

    public HCLUSTER handle() {
        if (closed) {
            throw new IllegalStateException("cluster connection is closed");
        }
        return handle;
    }

    /** The cluster's name and version ({@code GetClusterInformation}). */
    public ClusterInfo info() {
        ClusApiTypes.CLUSTERVERSIONINFO v = new ClusApiTypes.CLUSTERVERSIONINFO();
        v.dwVersionInfoSize = ClusApiTypes.CLUSTERVERSIONINFO.SIZE;
        String name = Buffers.string("GetClusterInformation", (buf, cch) -> api.GetClusterInformation(handle(), buf, cch, v));
        return new ClusterInfo(name, v.MajorVersion, v.MinorVersion, v.BuildNumber,
                Utf16.fromChars(v.szVendorId, v.szVendorId.length), Utf16.fromChars(v.szCSDVersion, v.szCSDVersion.length),
                v.dwClusterHighestVersion, v.dwClusterLowestVersion, v.dwFlags);
    }

    /**
     * The cluster's name and version.
     *
     * @param name the cluster name
     * @param major the major version
     * @param minor the minor version
     * @param build the build number
     * @param vendor the vendor id
     * @param csdVersion the service pack
     * @param highestVersion {@code CLUSTER_MAKE_VERSION} of the highest node version
     * @param lowestVersion {@code CLUSTER_MAKE_VERSION} of the lowest node version
     * @param flags {@code CLUSTER_VERSION_FLAG_*}
     */
    public record ClusterInfo(String name, int major, int minor, int build, String vendor, String csdVersion,
                              int highestVersion, int lowestVersion, int flags) {
    }

    /** The root of the cluster database; close it with {@link ClusterKey#close()}. */
    public ClusterKey rootKey(int samDesired) {
        WinReg.HKEY k = api.GetClusterKey(handle(), samDesired);
        if (k == null) {
            throw new ClusterApiException("GetClusterKey", Native.getLastError());
        }
        return new ClusterKey(api, k, "");
    }

    /** The names of the cluster objects of one {@code CLUSTER_ENUM_*} type. */
    public List<String> enumerate(int type) {
        HCLUSENUM e = api.ClusterOpenEnum(handle(), type);
        if (e == null) {
            throw new ClusterApiException("ClusterOpenEnum", Native.getLastError());
        }
        try {
            List<String> names = new ArrayList<>();
            for (int i = 0; ; i++) {
                int index = i;
                int[] last = new int[1];
                String name = Buffers.string("ClusterEnum", (buf, cch) -> {
                    last[0] = api.ClusterEnum(e, index, new IntByReference(), buf, cch);
                    return last[0] == ClusApiTypes.ERROR_NO_MORE_ITEMS ? ClusApiTypes.ERROR_SUCCESS : last[0];
                });
                if (last[0] == ClusApiTypes.ERROR_NO_MORE_ITEMS) {
                    return names;
                }
                names.add(name);
            }
        } finally {
            api.ClusterCloseEnum(e);
        }
    }

    /** The {@code CLUSTER_NODE_STATE} of a node. */
    public int nodeState(String node) {
        HNODE n = api.OpenClusterNode(handle(), node);
        if (n == null) {
            throw new ClusterApiException("OpenClusterNode", Native.getLastError(), node);
        }
        try {
            int state = api.GetClusterNodeState(n);
            if (state == ClusApiTypes.ClusterNodeStateUnknown) {
                int err = Native.getLastError();
                if (err != 0) {
                    throw new ClusterApiException("GetClusterNodeState", err, node);
                }
            }
            return state;
        } finally {
            api.CloseClusterNode(n);
        }
    }

    /**
     * A group's state and owner node.
     *
     * @param state the {@code CLUSTER_GROUP_STATE}
     * @param owner the owner node, empty when the group has none
     */
    public record GroupState(int state, Optional<String> owner) {
    }

    public GroupState groupState(String group) {
        HGROUP g = api.OpenClusterGroup(handle(), group);
        if (g == null) {
            throw new ClusterApiException("OpenClusterGroup", Native.getLastError(), group);
        }
        try {
            int[] state = new int[1];
            String owner = Buffers.string("GetClusterGroupState", (buf, cch) -> {
                state[0] = api.GetClusterGroupState(g, buf, cch);
                if (state[0] == ClusApiTypes.ClusterGroupStateUnknown) {
                    int err = Native.getLastError();
                    return err == 0 ? ClusApiTypes.ERROR_SUCCESS : err;
                }
                return ClusApiTypes.ERROR_SUCCESS;
            });
            return new GroupState(state[0], owner.isEmpty() ? Optional.empty() : Optional.of(owner));
        } finally {
            api.CloseClusterGroup(g);
        }
    }

    /** {@code MoveClusterGroup} of {@code group} to {@code node}: the raw return code (0, or ERROR_IO_PENDING while it runs). */
    int moveGroup(String group, String node) {
        return withGroup(group, g -> withNode(node, n -> api.MoveClusterGroup(g, n)));
    }

    /** {@code PauseClusterNodeEx} with drain, the cluster choosing where the groups go: the raw return code. */
    int drainNode(String node) {
        return withNode(node, n -> api.PauseClusterNodeEx(n, true, 0, null));
    }

    /** {@code ResumeClusterNodeEx} without failback: the raw return code. */
    int resumeNode(String node) {
        return withNode(node, n -> api.ResumeClusterNodeEx(n, ClusApiTypes.DoNotFailbackGroups, 0));
    }

    private int withNode(String node, java.util.function.ToIntFunction<HNODE> call) {
        return withObject("OpenClusterNode", node, api.OpenClusterNode(handle(), node), call, api::CloseClusterNode);
    }

    private int withGroup(String group, java.util.function.ToIntFunction<HGROUP> call) {
        return withObject("OpenClusterGroup", group, api.OpenClusterGroup(handle(), group), call, api::CloseClusterGroup);
    }

    /** Calls {@code call} on a handle just opened by {@code open} (null: the open failed), then closes it. */
    private static <H> int withObject(String open, String name, H handle, java.util.function.ToIntFunction<H> call,
                                      java.util.function.Consumer<H> close) {
        if (handle == null) {
            throw new ClusterApiException(open, Native.getLastError(), name);
        }
        try {
            return call.applyAsInt(handle);
        } finally {
            close.accept(handle);
        }
    }

    /** Closes the connection ({@code CloseCluster}); idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            api.CloseCluster(handle);
        }
    }

    @Override
    public String toString() {
        return "Cluster[" + (requestedName == null ? "local" : requestedName) + "]";
    }
}
