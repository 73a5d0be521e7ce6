package dev.reliablestore.registry;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * The path of a key in the registry tree: a list of segments below the registry's root. The root
 * itself is the empty path. Written with {@code /} between segments ({@code Entities/Customer/C-1});
 * the Windows backend maps that to {@code \}.
 *
 * <p>Limits, checked on construction so nothing invalid reaches a backend: a segment is
 * 1..{@value #MAX_SEGMENT_LENGTH} characters with no {@code /}, {@code \} or control character; at
 * most {@value #MAX_DEPTH} segments; at most {@value #MAX_PATH_LENGTH} characters in all (segments
 * plus separators). Breaking a limit raises {@link RegistryLimitException}, a bad character or an
 * empty segment {@link RegistryArgumentException}.
 */
public final class RegistryPath implements Comparable<RegistryPath> {

    public static final int MAX_SEGMENT_LENGTH = 255;
    public static final int MAX_DEPTH = 32;
    public static final int MAX_PATH_LENGTH = 1024;

    private static final RegistryPath ROOT = new RegistryPath(List.of(), 0);

    private final List<String> segments;
    private final int length;
    /** The segments' hash, computed on first use (0: not yet). */
    private int hash;

    private RegistryPath(List<String> segments, int length) {
        this.segments = segments;
        this.length = length;
    }

    /** The root key (no segments). */
    public static RegistryPath root() {
        return ROOT;
    }

    /** A path from its segments. */
    public static RegistryPath of(String... segments) {
        return of(List.of(segments));
    }

    /** A path from its segments. */
    public static RegistryPath of(List<String> segments) {
        Objects.requireNonNull(segments, "segments");
        if (segments.isEmpty()) {
            return ROOT;
        }
        if (segments.size() > MAX_DEPTH) {
            throw new RegistryLimitException("key path " + abbreviate(join(segments)) + " has " + segments.size()
                    + " segments; the limit is " + MAX_DEPTH, segments.size(), MAX_DEPTH);
        }
        int length = segments.size() - 1;
        for (String s : segments) {
            checkName(s, "key segment");
            length += s.length();
        }
        if (length > MAX_PATH_LENGTH) {
            throw new RegistryLimitException("key path " + abbreviate(join(segments)) + " has " + length
                    + " characters; the limit is " + MAX_PATH_LENGTH, length, MAX_PATH_LENGTH);
        }
        return new RegistryPath(Collections.unmodifiableList(new ArrayList<>(segments)), length);
    }

    /** Parses {@code a/b/c}; the empty string and {@code /} are the root. Leading and trailing {@code /} are ignored. */
    public static RegistryPath parse(String path) {
        Objects.requireNonNull(path, "path");
        String trimmed = path;
        while (trimmed.startsWith("/")) {
            trimmed = trimmed.substring(1);
        }
        while (trimmed.endsWith("/")) {
            trimmed = trimmed.substring(0, trimmed.length() - 1);
        }
        if (trimmed.isEmpty()) {
            return ROOT;
        }
        return of(List.of(trimmed.split("/", -1)));
    }

    /**
     * Checks a key segment or value name against the naming rules.
     *
     * @throws RegistryArgumentException naming the value and the rule
     */
    public static String checkName(String name, String what) {
        if (name == null) {
            throw new RegistryArgumentException(what + " is null");
        }
        if (name.isEmpty()) {
            throw new RegistryArgumentException(what + " is empty; it needs 1.." + MAX_SEGMENT_LENGTH + " characters");
        }
        if (name.length() > MAX_SEGMENT_LENGTH) {
            throw new RegistryLimitException(what + " \"" + abbreviate(name) + "\" has " + name.length()
                    + " characters; the limit is " + MAX_SEGMENT_LENGTH, name.length(), MAX_SEGMENT_LENGTH);
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '/' || c == '\\' || Character.isISOControl(c)) {
                throw new RegistryArgumentException(what + " \"" + abbreviate(name.replaceAll("\\p{Cntrl}", "?"))
                        + "\" contains " + (Character.isISOControl(c) ? String.format("control character U+%04X", (int) c)
                        : "'" + c + "'") + " at index " + i + "; separators and control characters are not allowed");
            }
        }
        return name;
    }

    public RegistryPath child(String segment) {
        List<String> next = new ArrayList<>(segments.size() + 1);
        next.addAll(segments);
        next.add(segment);
        return of(next);
    }

    /** This path followed by {@code relative}'s segments. */
    public RegistryPath resolve(RegistryPath relative) {
        if (relative.isRoot()) {
            return this;
        }
        List<String> next = new ArrayList<>(segments);
        next.addAll(relative.segments);
        return of(next);
    }

    /** The parent key; the root has none. */
    public RegistryPath parent() {
        if (isRoot()) {
            throw new IllegalStateException("the root key has no parent");
        }
        return new RegistryPath(segments.subList(0, segments.size() - 1),
                Math.max(0, length - segments.get(segments.size() - 1).length() - 1));
    }

    /** The last segment; the root has none. */
    public String name() {
        if (isRoot()) {
            throw new IllegalStateException("the root key has no name");
        }
        return segments.get(segments.size() - 1);
    }

    public boolean isRoot() {
        return segments.isEmpty();
    }

    public List<String> segments() {
        return segments;
    }

    public int depth() {
        return segments.size();
    }

    /** Characters of the path written with single-character separators. */
    public int length() {
        return length;
    }

    /** Whether {@code other} is this path or lies below it. */
    public boolean contains(RegistryPath other) {
        if (other.segments.size() < segments.size()) {
            return false;
        }
        return other.segments.subList(0, segments.size()).equals(segments);
    }

    /** Whether this path lies strictly below {@code ancestor}. */
    public boolean isBelow(RegistryPath ancestor) {
        return segments.size() > ancestor.segments.size() && ancestor.contains(this);
    }

    /** The path written with {@code /}. */
    @Override
    public String toString() {
        return join(segments);
    }

    /** The path written with another separator, e.g. {@code \} for Windows. */
    public String toString(char separator) {
        return String.join(String.valueOf(separator), segments);
    }

    @Override
    public int compareTo(RegistryPath o) {
        int n = Math.min(segments.size(), o.segments.size());
        for (int i = 0; i < n; i++) {
            int c = segments.get(i).compareTo(o.segments.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(segments.size(), o.segments.size());
    }

    @Override
    public boolean equals(Object o) {
        return this == o || o instanceof RegistryPath p && p.hashCode() == hashCode() && p.segments.equals(segments);
    }

    @Override
    public int hashCode() {
        // paths are map keys on every commit's path (planner, pipeline, caches): hash the segments once
        int h = hash;
        if (h == 0) {
            h = segments.hashCode();
            hash = h;
        }
        return h;
    }

    private static String join(List<String> segments) {
        return String.join("/", segments);
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
