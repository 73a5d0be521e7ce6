package dev.reliablestore.registry.clusapi;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

import java.nio.charset.StandardCharsets;

/**
 * Every UTF-16 conversion of the binding, in one place. The cluster API's WCHAR is UTF-16LE on
 * every Windows; this code reads and writes it explicitly (never the host's {@code wchar_t}, which is
 * 4 bytes on Linux), so the same code serves the real DLL and the in-memory fake.
 */
final class Utf16 {

    private Utf16() {
    }

    /** The string of an output buffer: {@code count} characters, cut at a NUL if one comes earlier. */
    static String fromChars(char[] buffer, int count) {
        int n = Math.max(0, Math.min(count, buffer.length));
        for (int i = 0; i < n; i++) {
            if (buffer[i] == 0) {
                n = i;
                break;
            }
        }
        return new String(buffer, 0, n);
    }

    /** A NUL-terminated UTF-16LE string in native memory; {@code null} for a NULL pointer. */
    static String fromNative(Pointer p) {
        if (p == null) {
            return null;
        }
        int n = 0;
        while (p.getShort(2L * n) != 0) {
            n++;
        }
        return new String(p.getByteArray(0, 2 * n), StandardCharsets.UTF_16LE);
    }

    /** The string as NUL-terminated UTF-16LE in new native memory (kept alive by the caller). */
    static Memory toNative(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_16LE);
        Memory m = new Memory(b.length + 2L);
        m.write(0, b, 0, b.length);
        m.setShort(b.length, (short) 0);
        return m;
    }

    /** Bytes at a native pointer; an empty array for NULL or zero length. */
    static byte[] bytes(Pointer p, int length) {
        return p == null || length <= 0 ? new byte[0] : p.getByteArray(0, length);
    }
}
