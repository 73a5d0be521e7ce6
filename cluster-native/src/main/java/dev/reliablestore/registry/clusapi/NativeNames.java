package dev.reliablestore.registry.clusapi;

import dev.reliablestore.registry.RegistryCorruptedException;
import dev.reliablestore.registry.RegistryLimitException;
import dev.reliablestore.registry.RegistryPath;

/**
 * The reversible, case-preserving mapping between the contract's case-sensitive names and the
 * names the backend gives the cluster registry, which compares key and value names
 * case-insensitively. Every user key segment and value name is mapped on the way to clusapi and
 * mapped back on the way out, so names that differ only in case stay distinct.
 *
 * <p>Per code point c of the name:
 * <ul>
 *   <li>{@code ^} (the escape) becomes {@code ^^};</li>
 *   <li>a <em>plain</em> c stays as is: c has no case at all, or c is the one lowercase form its
 *       uppercase maps back to ({@code toLowerCase(c) == c} and {@code toLowerCase(toUpperCase(c)) == c});
 *       so {@code a-z}, digits, {@code é}, {@code σ}, {@code ß}, CJK, emoji stay;</li>
 *   <li>an uppercase or titlecase c whose lowercase l is plain and maps back to it
 *       ({@code toUpperCase(l) == c}) becomes {@code ^l}: {@code A} → {@code ^a}, {@code Σ} → {@code ^σ};</li>
 *   <li>any other cased c becomes {@code ^_hhhh} per UTF-16 unit (4 lowercase hex digits): the
 *       letters that share a case partner with another letter, such as {@code ς}, {@code ı}, {@code İ},
 *       {@code ǅ}, {@code ſ}, {@code µ}, the Kelvin sign, {@code ẞ}.</li>
 * </ul>
 *
 * <p>Why it is injective under the registry's case folding: every character a mapped name
 * consists of is plain, or {@code ^}/{@code _} (no case); two distinct plain characters never fold
 * to one (were {@code toUpperCase(x) == toUpperCase(y)}, then {@code x = toLowerCase(toUpperCase(x)) = y};
 * lowercasing leaves plain characters unchanged). So the fold of a mapped name is injective per
 * position, and the mapping itself is decodable. This holds for any folding that maps a character
 * to itself or to its Unicode simple uppercase (or lowercase) -- Windows' uppercase table is such a
 * table, of an older Unicode version, and Unicode never removes a case pair.
 *
 * <p>Mapped names never contain {@code /}, so they never meet the backend's {@link Reserved} names.
 * Windows allows 255 characters in a key name and 16,383 in a value name; a name whose mapped form
 * is longer is refused with {@link RegistryLimitException} before anything is sent.
 */
final class NativeNames {

    /** The escape character; legal in contract names and in Windows key and value names. */
    static final char ESCAPE = '^';
    /** After {@link #ESCAPE}: 4 lowercase hex digits of one UTF-16 unit follow. */
    static final char HEX = '_';
    /** Windows' limit on one key name (a path segment), in UTF-16 units. */
    static final int MAX_KEY_NAME = 255;
    /** Windows' limit on a value name, in UTF-16 units. */
    static final int MAX_VALUE_NAME = 16_383;

    private static final char[] HEX_DIGITS = "0123456789abcdef".toCharArray();

    private NativeNames() {
    }

    /** Whether c is written as itself: it has no case, or it is the canonical lowercase of its uppercase. */
    static boolean plain(int c) {
        return c != ESCAPE && Character.toLowerCase(c) == c && Character.toLowerCase(Character.toUpperCase(c)) == c;
    }

    /** Whether c is written {@code ^l}: l = its lowercase, which is plain and whose uppercase is c. */
    private static boolean shortEscape(int c) {
        int l = Character.toLowerCase(c);
        return l != c && plain(l) && Character.toUpperCase(l) == c;
    }

    /** The mapped form of a name (no length check). */
    static String encode(String name) {
        int i = 0;
        while (i < name.length()) {
            int c = name.codePointAt(i);
            if (!plain(c)) {
                break;
            }
            i += Character.charCount(c);
        }
        if (i == name.length()) {
            return name; // the common case: nothing to escape
        }
        StringBuilder out = new StringBuilder(name.length() + 16).append(name, 0, i);
        while (i < name.length()) {
            int c = name.codePointAt(i);
            int n = Character.charCount(c);
            if (plain(c)) {
                out.appendCodePoint(c);
            } else if (c == ESCAPE) {
                out.append(ESCAPE).append(ESCAPE);
            } else if (shortEscape(c)) {
                out.append(ESCAPE).appendCodePoint(Character.toLowerCase(c));
            } else {
                for (int k = 0; k < n; k++) {
                    char unit = name.charAt(i + k);
                    out.append(ESCAPE).append(HEX)
                            .append(HEX_DIGITS[(unit >> 12) & 0xf]).append(HEX_DIGITS[(unit >> 8) & 0xf])
                            .append(HEX_DIGITS[(unit >> 4) & 0xf]).append(HEX_DIGITS[unit & 0xf]);
                }
            }
            i += n;
        }
        return out.toString();
    }

    /**
     * The name a mapped form stands for. A native name that {@link #encode} cannot have produced
     * (written by another program, or by hand) is {@link RegistryCorruptedException}: guessing
     * would make two native names one user name.
     *
     * @param where what the name is (for the message)
     */
    static String decode(String nativeName, String where) {
        if (nativeName.indexOf(ESCAPE) < 0) {
            checkCanonical(nativeName, nativeName, where);
            return nativeName;
        }
        StringBuilder out = new StringBuilder(nativeName.length());
        int i = 0;
        while (i < nativeName.length()) {
            char ch = nativeName.charAt(i);
            if (ch != ESCAPE) {
                out.append(ch);
                i++;
                continue;
            }
            if (i + 1 >= nativeName.length()) {
                throw notMapped(nativeName, where, "ends with the escape '^'");
            }
            int next = nativeName.codePointAt(i + 1);
            if (next == ESCAPE) {
                out.append(ESCAPE);
                i += 2;
            } else if (next == HEX) {
                if (i + 6 > nativeName.length()) {
                    throw notMapped(nativeName, where, "'^_' at index " + i + " is not followed by 4 hex digits");
                }
                int unit = 0;
                for (int k = i + 2; k < i + 6; k++) {
                    int d = Character.digit(nativeName.charAt(k), 16);
                    if (d < 0) {
                        throw notMapped(nativeName, where, "'^_' at index " + i + " is not followed by 4 hex digits");
                    }
                    unit = unit << 4 | d;
                }
                out.append((char) unit);
                i += 6;
            } else {
                int upper = Character.toUpperCase(next);
                if (upper == next) {
                    throw notMapped(nativeName, where, "'^' at index " + i + " is followed by a character without case");
                }
                out.appendCodePoint(upper);
                i += 1 + Character.charCount(next);
            }
        }
        String name = out.toString();
        checkCanonical(name, nativeName, where);
        return name;
    }

    /** Only the one mapped form of a name is accepted (e.g. not "^_0041" for "A", nor an unescaped "A"). */
    private static void checkCanonical(String name, String nativeName, String where) {
        if (!encode(name).equals(nativeName)) {
            throw notMapped(nativeName, where, "it is not the mapped form of any name");
        }
    }

    private static RegistryCorruptedException notMapped(String nativeName, String where, String why) {
        return new RegistryCorruptedException(where + " has the native name \"" + nativeName + "\", which ReliableStore did not write ("
                + why + "): written outside ReliableStore");
    }

    /** The mapped form of a key segment; refused when longer than Windows' key-name limit. */
    static String key(String segment) {
        return checked(segment, encode(segment), MAX_KEY_NAME, "key segment");
    }

    /**
     * The longest mapped value name: Windows' value-name limit minus the revision prefix, so the
     * revision sibling ({@link Reserved#revisionOf}) fits too. A contract name (at most 255
     * characters, at most 6 each when mapped) never reaches it; it is checked all the same.
     */
    static final int MAX_MAPPED_VALUE_NAME = MAX_VALUE_NAME - Reserved.REVISION_PREFIX.length();

    /** The mapped form of a value name; refused when longer than {@link #MAX_MAPPED_VALUE_NAME}. */
    static String value(String name) {
        return checked(name, encode(name), MAX_MAPPED_VALUE_NAME, "value name");
    }

    /** A key's path below the base key as the cluster registry writes it: mapped segments, {@code \}-separated; "" for the base. */
    static String keyPath(RegistryPath key) {
        if (key.isRoot()) {
            return "";
        }
        StringBuilder out = new StringBuilder(key.length() + 16);
        for (String segment : key.segments()) {
            if (out.length() > 0) {
                out.append('\\');
            }
            out.append(key(segment));
        }
        return out.toString();
    }

    static String checked(String name, String mapped, int limit, String what) {
        if (mapped.length() > limit) {
            throw new RegistryLimitException("the " + what + " \"" + abbreviate(name) + "\" (" + name.length()
                    + " characters) is " + mapped.length() + " characters in the clusapi backend's case-preserving form"
                    + " (uppercase letters and '^' take 2, some other cased letters 6); the Windows cluster registry's limit is "
                    + limit, mapped.length(), limit);
        }
        return mapped;
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "…";
    }
}
