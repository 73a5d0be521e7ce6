package dev.reliablestore.registry.clusapi;

import com.sun.jna.ptr.IntByReference;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes;

import java.util.Arrays;

/**
 * The one place that grows buffers on {@code ERROR_MORE_DATA}: the call is repeated with a buffer of
 * the size the API asked for (or twice the old one when it did not say), up to a hard cap.
 */
final class Buffers {

    /** Largest buffer the binding allocates: a value is at most 1 MiB plus our small headers. */
    static final int MAX_BYTES = 64 * 1024 * 1024;
    static final int MAX_CHARS = 1 << 20;

    private Buffers() {
    }

    /** A call filling a character buffer whose size in characters (including the NUL) is in {@code cch}. */
    interface CharCall {
        int call(char[] buffer, IntByReference cch);
    }

    /** A call filling a byte buffer whose size in bytes is in {@code cb}. */
    interface ByteCall {
        int call(byte[] buffer, IntByReference cb);
    }

    /** The string the call returns; throws {@link ClusterApiException} for any error but ERROR_MORE_DATA. */
    static String string(String function, CharCall call) {
        char[] buf = new char[128];
        while (true) {
            IntByReference cch = new IntByReference(buf.length);
            int rc = call.call(buf, cch);
            if (rc == ClusApiTypes.ERROR_SUCCESS) {
                return Utf16.fromChars(buf, cch.getValue());
            }
            if (rc != ClusApiTypes.ERROR_MORE_DATA) {
                throw new ClusterApiException(function, rc);
            }
            buf = new char[grow(buf.length, cch.getValue() + 1, MAX_CHARS, function)];
        }
    }

    /** The bytes the call returns. */
    static byte[] bytes(String function, ByteCall call) {
        byte[] buf = new byte[256];
        while (true) {
            IntByReference cb = new IntByReference(buf.length);
            int rc = call.call(buf, cb);
            if (rc == ClusApiTypes.ERROR_SUCCESS) {
                return Arrays.copyOf(buf, Math.min(cb.getValue(), buf.length));
            }
            if (rc != ClusApiTypes.ERROR_MORE_DATA) {
                throw new ClusterApiException(function, rc);
            }
            buf = new byte[grow(buf.length, cb.getValue(), MAX_BYTES, function)];
        }
    }

    /** The next buffer size: what the API asked for, or double; never beyond {@code max}. */
    static int grow(int current, int asked, int max, String function) {
        long next = Math.max(asked, 2L * current);
        if (current >= max) {
            throw new ClusterApiException(function, ClusApiTypes.ERROR_MORE_DATA,
                    "the result needs more than " + max + " units; refusing to grow the buffer further");
        }
        return (int) Math.min(next, max);
    }
}
