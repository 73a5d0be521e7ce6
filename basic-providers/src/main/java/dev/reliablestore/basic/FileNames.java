package dev.reliablestore.basic;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;

/**
 * Maps an id or type name to a file name that is safe on every common file system, reversibly.
 *
 * <ul>
 *   <li>{@code a-z 0-9 - _} stay as they are; {@code .} too, except as the first or last character.</li>
 *   <li>An upper-case ASCII letter becomes {@code !} and the letter in lower case ({@code Ab} →
 *       {@code !ab}), so two ids differing only in case never meet on a case-insensitive disk.</li>
 *   <li>Everything else becomes {@code %XX} per byte of its UTF-8 encoding, upper-case hex (an
 *       unpaired surrogate is encoded as its three WTF-8 bytes, so it too is reversible).</li>
 *   <li>A name whose part before the first dot is a Windows device name (con, prn, aux, nul,
 *       com0-9, lpt0-9) has its first character percent-encoded.</li>
 *   <li>A result longer than {@value #MAX_ENCODED} characters is replaced by {@code ~} and the
 *       SHA-256 of the id in lower-case hex; such a name is not reversible, but the document
 *       inside the file carries the id, and reads check it.</li>
 * </ul>
 * Encoded names never start with a dot, so they never collide with the provider's own files.
 */
final class FileNames {

    static final int MAX_ENCODED = 200;
    private static final Set<String> DEVICE_NAMES = Set.of("con", "prn", "aux", "nul",
            "com0", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8", "com9",
            "lpt0", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9");
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private FileNames() {
    }

    static String encode(String name) {
        StringBuilder out = new StringBuilder(name.length() + 16);
        int last = name.length() - 1;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
                    || (c == '.' && i != 0 && i != last)) {
                out.append(c);
            } else if (c >= 'A' && c <= 'Z') {
                out.append('!').append(Character.toLowerCase(c));
            } else if (c < 0x80) {
                percent(out, c);
            } else if (Character.isHighSurrogate(c) && i < last && Character.isLowSurrogate(name.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, name.charAt(++i));
                percent(out, 0xF0 | (cp >>> 18));
                percent(out, 0x80 | ((cp >>> 12) & 0x3F));
                percent(out, 0x80 | ((cp >>> 6) & 0x3F));
                percent(out, 0x80 | (cp & 0x3F));
            } else if (c < 0x800) {
                percent(out, 0xC0 | (c >>> 6));
                percent(out, 0x80 | (c & 0x3F));
            } else { // BMP, including an unpaired surrogate (WTF-8)
                percent(out, 0xE0 | (c >>> 12));
                percent(out, 0x80 | ((c >>> 6) & 0x3F));
                percent(out, 0x80 | (c & 0x3F));
            }
        }
        int dot = out.indexOf(".");
        String stem = (dot < 0 ? out : out.subSequence(0, dot)).toString();
        if (DEVICE_NAMES.contains(stem)) {
            char first = out.charAt(0);
            out.deleteCharAt(0);
            out.insert(0, new StringBuilder().append('%').append(HEX[first >>> 4]).append(HEX[first & 0xF]));
        }
        if (out.length() > MAX_ENCODED) {
            return "~" + sha256(name);
        }
        return out.toString();
    }

    /**
     * Whether {@code name} is one {@link #encode} can return: a type folder or document of the provider's,
     * not something else kept in the directory (a mounted disk's {@code lost+found}).
     */
    static boolean isEncoded(String name) {
        if (name.startsWith("~")) {
            return name.length() == 65 && name.chars().skip(1).allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
        }
        String decoded = decode(name);
        return decoded != null && encode(decoded).equals(name);
    }

    /** The name {@link #encode} was given, or null for a hashed (or foreign) file name. */
    static String decode(String encoded) {
        if (encoded.startsWith("~") || encoded.isEmpty()) {
            return null;
        }
        StringBuilder out = new StringBuilder(encoded.length());
        int i = 0;
        while (i < encoded.length()) {
            char c = encoded.charAt(i);
            if (c == '!') {
                if (i + 1 >= encoded.length()) {
                    return null;
                }
                out.append(Character.toUpperCase(encoded.charAt(i + 1)));
                i += 2;
            } else if (c == '%') {
                int b = hexByte(encoded, i);
                if (b < 0) {
                    return null;
                }
                int extra = b < 0x80 ? 0 : b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : 1;
                int cp = extra == 0 ? b : b & (0x3F >> extra);
                i += 3;
                for (int k = 0; k < extra; k++, i += 3) {
                    int cont = hexByte(encoded, i);
                    if (cont < 0) {
                        return null;
                    }
                    cp = (cp << 6) | (cont & 0x3F);
                }
                if (cp > Character.MAX_CODE_POINT) {
                    return null; // no encoding of a name writes it (a stranger's folder, e.g. Latin-1 percent-encoded)
                }
                out.appendCodePoint(cp);
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static int hexByte(String s, int at) {
        if (at + 2 >= s.length() || s.charAt(at) != '%') {
            return -1;
        }
        int hi = Character.digit(s.charAt(at + 1), 16);
        int lo = Character.digit(s.charAt(at + 2), 16);
        return hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
    }

    private static void percent(StringBuilder out, int b) {
        out.append('%').append(HEX[(b >>> 4) & 0xF]).append(HEX[b & 0xF]);
    }

    private static String sha256(String name) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            // UTF-16 code units, so unpaired surrogates hash distinctly
            return HexFormat.of().formatHex(digest.digest(name.getBytes(StandardCharsets.UTF_16BE))).toLowerCase(Locale.ROOT);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
