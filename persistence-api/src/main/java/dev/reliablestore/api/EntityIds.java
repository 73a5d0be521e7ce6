package dev.reliablestore.api;

/**
 * The rules for entity ids and type names, checked before any I/O.
 *
 * <p>A name is 1..{@value #MAX_LENGTH} characters and contains no {@code /}, no {@code \} and no
 * control character (Unicode category Cc). These are the rules of a cluster registry key segment,
 * so an id can always be stored as one key without escaping.
 */
public final class EntityIds {

    /** The longest id or type name, in characters (UTF-16 code units). */
    public static final int MAX_LENGTH = 255;

    private EntityIds() {
    }

    /**
     * Returns the id unchanged if it is valid.
     *
     * @throws InvalidIdException naming the id and the rule it breaks
     */
    public static String requireValidId(String id) {
        String problem = problem(id);
        if (problem != null) {
            throw new InvalidIdException(id, "invalid entity id " + describe(id) + ": " + problem);
        }
        return id;
    }

    /**
     * Returns the type name unchanged if it is valid (same rules as an id).
     *
     * @throws InvalidIdException naming the type name and the rule it breaks
     */
    public static String requireValidTypeName(String typeName) {
        String problem = problem(typeName);
        if (problem != null) {
            throw new InvalidIdException(typeName, "invalid entity type name " + describe(typeName) + ": " + problem);
        }
        return typeName;
    }

    /** Whether the id is valid. */
    public static boolean isValid(String id) {
        return problem(id) == null;
    }

    private static String problem(String name) {
        if (name == null) {
            return "it is null";
        }
        if (name.isEmpty()) {
            return "it is empty (at least 1 character is required)";
        }
        if (name.length() > MAX_LENGTH) {
            return "it has " + name.length() + " characters, the limit is " + MAX_LENGTH;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '/' || c == '\\') {
                return "character '" + c + "' at index " + i + " is a path separator";
            }
            if (Character.isISOControl(c)) {
                return String.format("control character U+%04X at index %d is not allowed", (int) c, i);
            }
        }
        return null;
    }

    static String describe(String name) {
        if (name == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder("\"");
        int shown = Math.min(name.length(), 64);
        for (int i = 0; i < shown; i++) {
            char c = name.charAt(i);
            if (Character.isISOControl(c)) {
                out.append(String.format("\\u%04X", (int) c));
            } else {
                out.append(c);
            }
        }
        if (shown < name.length()) {
            out.append("…");
        }
        return out.append('"').toString();
    }
}
