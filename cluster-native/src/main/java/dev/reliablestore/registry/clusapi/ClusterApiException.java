package dev.reliablestore.registry.clusapi;

import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes;
import com.sun.jna.platform.win32.WinError;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * A clusapi/resutils call failed with a Win32 error: carries the function, the code and its
 * symbolic name from {@code winerror.h} (e.g. {@code ERROR_CLUSTER_DATABASE_UPDATE_CONDITION_FAILED}).
 */
public class ClusterApiException extends RegistryException {

    private static final long serialVersionUID = 1L;

    /** The errors on which MS-CMRP 3.2.4.6 says a client should reconnect. */
    private static final Set<Integer> RECONNECT = Set.of(6, 1115, 1255, 1702, 1717, 1722, 1723, 1726, 1727, 1747,
            1753, 1775, 5072, 5073);

    /**
     * Errors outside that list that still say the cluster cannot serve the call now rather than that
     * the call is wrong (clusapi-reference §8.3): no quorum, the answering node down or not available,
     * a server paused or starting, an RPC cancelled or broken in transit. The v2 list is not all of
     * them (the v3 one was not retrieved), and a batch failing so may have been applied.
     */
    private static final Set<Integer> UNAVAILABLE = Set.of(ClusApiTypes.ERROR_CLUSTER_NO_QUORUM, ClusApiTypes.ERROR_CLUSTER_NODE_DOWN,
            ClusApiTypes.ERROR_NODE_NOT_AVAILABLE, ClusApiTypes.ERROR_SHARING_PAUSED, ClusApiTypes.RPC_S_CALL_CANCELLED,
            ClusApiTypes.RPC_S_COMM_FAILURE);

    private static final Map<Integer, String> NAMES = names();

    private final String function;
    private final int code;

    public ClusterApiException(String function, int code) {
        this(function, code, null);
    }

    public ClusterApiException(String function, int code, String detail) {
        super(function + " failed with " + symbolicName(code) + " (" + code + ")" + (detail == null ? "" : ": " + detail));
        this.function = function;
        this.code = code;
    }

    public String function() {
        return function;
    }

    /** The Win32 error code. */
    public int code() {
        return code;
    }

    public String symbolicName() {
        return symbolicName(code);
    }

    /** Whether the error means the connection is broken and handles must be reopened (MS-CMRP 3.2.4.6). */
    public boolean isReconnectError() {
        return RECONNECT.contains(code);
    }

    /**
     * Whether the cluster could not serve the call now (a reconnect error, no quorum, a node down or
     * unavailable, a broken RPC): retryable, and for a sent batch its outcome is unknown. Every other
     * error is the server's definite answer.
     */
    public boolean isUnavailableError() {
        return isReconnectError() || UNAVAILABLE.contains(code);
    }

    /** The {@code winerror.h} name of a code, or {@code WIN32_ERROR_<code>} when unknown. */
    public static String symbolicName(int code) {
        String n = NAMES.get(code);
        return n != null ? n : "WIN32_ERROR_" + code;
    }

    private static Map<Integer, String> names() {
        Map<Integer, String> m = new HashMap<>();
        // jna-platform's table first, then ours (which has the cluster codes jna-platform lacks)
        for (Class<?> c : new Class<?>[]{WinError.class, ClusApiTypes.class}) {
            for (Field f : c.getFields()) {
                String n = f.getName();
                if (f.getType() == int.class && Modifier.isStatic(f.getModifiers())
                        && (n.startsWith("ERROR_") || n.startsWith("WAIT_") || n.startsWith("RPC_S_") || n.startsWith("EPT_S_"))) {
                    try {
                        int v = f.getInt(null);
                        if (c == ClusApiTypes.class || !m.containsKey(v)) {
                            m.put(v, n);
                        }
                    } catch (IllegalAccessException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
        }
        m.put(0, "ERROR_SUCCESS");
        return Map.copyOf(m);
    }
}
