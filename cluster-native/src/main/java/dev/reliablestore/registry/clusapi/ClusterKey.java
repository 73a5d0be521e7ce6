package dev.reliablestore.registry.clusapi;

import com.sun.jna.platform.win32.WinReg;
import com.sun.jna.ptr.IntByReference;
import dev.reliablestore.registry.clusapi.jna.ClusApi;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An open cluster-registry key (a cluster {@code HKEY}, closed with {@code ClusterRegCloseKey}, never
 * with the advapi32 registry functions). Not thread-safe for close; reads may run concurrently.
 */
public final class ClusterKey implements AutoCloseable {

    private final ClusApi api;
    private final WinReg.HKEY handle;
    private final String path;
    private volatile boolean closed;

    ClusterKey(ClusApi api, WinReg.HKEY handle, String path) {
        this.api = api;
        this.handle = handle;
        this.path = path;
    }

    public WinReg.HKEY handle() {
        if (closed) {
            throw new IllegalStateException("cluster key " + path + " is closed");
        }
        return handle;
    }

    /** The path this key was opened with, relative to the cluster root, {@code \}-separated. */
    public String path() {
        return path;
    }

    /** Opens a subkey; empty when it does not exist. */
    public Optional<ClusterKey> open(String subKey, int samDesired) {
        WinReg.HKEYByReference out = new WinReg.HKEYByReference();
        int rc = api.ClusterRegOpenKey(handle(), subKey, samDesired, out);
        if (rc == ClusApiTypes.ERROR_FILE_NOT_FOUND) {
            return Optional.empty();
        }
        check("ClusterRegOpenKey", rc, subKey);
        return Optional.of(new ClusterKey(api, out.getValue(), join(subKey)));
    }

    /** Creates (with missing ancestors, as the registry does) or opens a subkey. */
    public ClusterKey create(String subKey, int samDesired) {
        WinReg.HKEYByReference out = new WinReg.HKEYByReference();
        IntByReference disposition = new IntByReference();
        int rc = api.ClusterRegCreateKey(handle(), subKey, ClusApiTypes.REG_OPTION_NON_VOLATILE, samDesired, null, out,
                disposition);
        check("ClusterRegCreateKey", rc, subKey);
        return new ClusterKey(api, out.getValue(), join(subKey));
    }

    /** A value; empty when it does not exist. */
    public Optional<RegValue> query(String name) {
        IntByReference type = new IntByReference();
        int[] last = new int[1];
        byte[] data = Buffers.bytes("ClusterRegQueryValue", (buf, cb) -> {
            last[0] = api.ClusterRegQueryValue(handle(), name, type, buf, cb);
            return last[0] == ClusApiTypes.ERROR_FILE_NOT_FOUND ? ClusApiTypes.ERROR_SUCCESS : last[0];
        });
        if (last[0] == ClusApiTypes.ERROR_FILE_NOT_FOUND) {
            return Optional.empty();
        }
        return Optional.of(new RegValue(type.getValue(), data));
    }

    public void setValue(String name, RegValue value) {
        byte[] d = value.data();
        check("ClusterRegSetValue", api.ClusterRegSetValue(handle(), name, value.type(), d, d.length), name);
    }

    /** Deletes a value; returns whether it existed. */
    public boolean deleteValue(String name) {
        int rc = api.ClusterRegDeleteValue(handle(), name);
        if (rc == ClusApiTypes.ERROR_FILE_NOT_FOUND) {
            return false;
        }
        check("ClusterRegDeleteValue", rc, name);
        return true;
    }

    /** The names of the direct subkeys, in the API's (arbitrary) order. */
    public List<String> subkeyNames() {
        List<String> names = new ArrayList<>();
        for (int i = 0; ; i++) {
            int index = i;
            int[] end = new int[1];
            String name = Buffers.string("ClusterRegEnumKey", (buf, cch) -> {
                int rc = api.ClusterRegEnumKey(handle(), index, buf, cch, null);
                end[0] = rc;
                return rc == ClusApiTypes.ERROR_NO_MORE_ITEMS ? ClusApiTypes.ERROR_SUCCESS : rc;
            });
            if (end[0] == ClusApiTypes.ERROR_NO_MORE_ITEMS) {
                return names;
            }
            names.add(name);
        }
    }

    /** Every value of the key with its type and data, in the API's (arbitrary) order. */
    public Map<String, RegValue> values() {
        Map<String, RegValue> out = new LinkedHashMap<>();
        char[] name = new char[256];
        byte[] data = new byte[1024];
        for (int i = 0; ; ) {
            IntByReference cch = new IntByReference(name.length);
            IntByReference type = new IntByReference();
            IntByReference cb = new IntByReference(data.length);
            int rc = api.ClusterRegEnumValue(handle(), i, name, cch, type, data, cb);
            if (rc == ClusApiTypes.ERROR_NO_MORE_ITEMS) {
                return out;
            }
            if (rc == ClusApiTypes.ERROR_MORE_DATA) {
                // either buffer may be short; grow both to what was asked (the API reports both sizes)
                name = new char[Buffers.grow(name.length, cch.getValue() + 1, Buffers.MAX_CHARS, "ClusterRegEnumValue")];
                data = new byte[Buffers.grow(data.length, cb.getValue(), Buffers.MAX_BYTES, "ClusterRegEnumValue")];
                continue;
            }
            check("ClusterRegEnumValue", rc, path);
            out.put(Utf16.fromChars(name, cch.getValue()), new RegValue(type.getValue(),
                    java.util.Arrays.copyOf(data, cb.getValue())));
            i++;
        }
    }

    private String join(String sub) {
        return path.isEmpty() ? sub : sub.isEmpty() ? path : path + "\\" + sub;
    }

    private void check(String function, int rc, String what) {
        if (rc != ClusApiTypes.ERROR_SUCCESS) {
            throw new ClusterApiException(function, rc, "key \"" + path + "\", \"" + what + "\"");
        }
    }

    /** Closes the handle with {@code ClusterRegCloseKey}; idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            int rc = api.ClusterRegCloseKey(handle);
            if (rc != ClusApiTypes.ERROR_SUCCESS) {
                throw new ClusterApiException("ClusterRegCloseKey", rc, path);
            }
        }
    }
}
