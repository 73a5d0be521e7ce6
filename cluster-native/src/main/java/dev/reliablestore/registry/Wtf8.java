package dev.reliablestore.registry;

import java.nio.charset.StandardCharsets;

/**
 * The byte form of registry names wherever they are written (the embedded registry's log records
 * and snapshots, backups): UTF-8, except that an unpaired surrogate (a legal registry name
 * character) is written as its own 3-byte sequence ({@code ED A0..BF 80..BF}, as in WTF-8) instead
 * of being replaced by {@code '?'} as {@link String#getBytes} would, which would rename the key when
 * it is read back. For every well-formed string the bytes are exactly UTF-8, so files written before
 * this encoding read back unchanged.
 */
public final class Wtf8 {

    private Wtf8() {
    }

    public static byte[] encode(String s) {
        if (!hasUnpairedSurrogate(s)) {
            return s.getBytes(StandardCharsets.UTF_8);
        }
        byte[] out = new byte[3 * s.length()];
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                out[n++] = (byte) c;
            } else if (c < 0x800) {
                out[n++] = (byte) (0xC0 | c >>> 6);
                out[n++] = (byte) (0x80 | c & 0x3F);
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                out[n++] = (byte) (0xF0 | cp >>> 18);
                out[n++] = (byte) (0x80 | cp >>> 12 & 0x3F);
                out[n++] = (byte) (0x80 | cp >>> 6 & 0x3F);
                out[n++] = (byte) (0x80 | cp & 0x3F);
            } else { // the rest of the BMP, unpaired surrogates included
                out[n++] = (byte) (0xE0 | c >>> 12);
                out[n++] = (byte) (0x80 | c >>> 6 & 0x3F);
                out[n++] = (byte) (0x80 | c & 0x3F);
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    public static String decode(byte[] b) {
        return decode(b, 0, b.length);
    }

    public static String decode(byte[] b, int offset, int length) {
        int end = offset + length;
        int next = nextSurrogate(b, offset, end);
        if (next < 0) {
            return new String(b, offset, length, StandardCharsets.UTF_8);
        }
        StringBuilder out = new StringBuilder(length);
        int from = offset;
        while (next >= 0) {
            out.append(new String(b, from, next - from, StandardCharsets.UTF_8));
            out.append((char) (0xD000 | (b[next + 1] & 0x3F) << 6 | b[next + 2] & 0x3F));
            from = next + 3;
            next = nextSurrogate(b, from, end);
        }
        return out.append(new String(b, from, end - from, StandardCharsets.UTF_8)).toString();
    }

    /** Where the next encoded surrogate starts in [from, end), or -1. 0xED is always a lead byte. */
    private static int nextSurrogate(byte[] b, int from, int end) {
        for (int i = from; i + 2 < end; i++) {
            if (b[i] == (byte) 0xED && (b[i + 1] & 0xE0) == 0xA0 && (b[i + 2] & 0xC0) == 0x80) {
                return i;
            }
        }
        return -1;
    }

    /** Whether UTF-8 cannot encode {@code s}: it holds an unpaired surrogate (then {@link #encode} differs from UTF-8). */
    public static boolean hasUnpairedSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return true;
            }
        }
        return false;
    }
}
