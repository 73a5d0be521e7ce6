package dev.reliablestore.cli;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.reliablestore.codec.JacksonEntityCodec;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** JSON in and out of the tool: entity input, {@code --json} output, canonical forms for content hashes. */
final class Json {

    /**
     * The stores' default codec configuration, so that what the tool reads and shows is what a store
     * holds (12.30 stays 12.30, -0.0 stays -0.0, 1.2345678E7 stays 1.2345678E7: {@link ExactNumbers}); only output of the tool's own
     * reports may hold empty objects.
     */
    static final ObjectMapper MAPPER = JacksonEntityCodec.defaultMapperBuilder()
            .addModule(ExactNumbers.module())
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .build();

    /**
     * The codec the tool opens stores with: the default one (same id, same stored JSON) with
     * exact numbers in trees, so that {@code migrate} copies each number as it is stored.
     */
    static final JacksonEntityCodec CODEC = JacksonEntityCodec.of(JacksonEntityCodec.defaultMapperBuilder()
            .addModule(ExactNumbers.module())
            .build());

    private Json() {
    }

    /**
     * An entity from its JSON text.
     *
     * @throws CliException (usage) naming where the text is malformed, without quoting it
     */
    static JsonNode parseEntity(String text, String where) {
        JsonNode node;
        try {
            // a repeated member would keep only its last value, silently: refused, as audit verify refuses one
            node = MAPPER.reader().with(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).readTree(text);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String position = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            // Jackson's own message, without the parts that point at (or quote) the input
            String reason = e.getOriginalMessage().replaceAll("\\s*\\(start marker at \\[Source.*", "")
                    .replaceAll("\\s*\\[Source:.*", "")
                    // and the input Jackson quotes: a token ('hunter2'), a character ('x' (code 120))
                    .replaceAll("\\('(?:[^'\\\\]|\\\\.)*' \\(code -?\\d+[^)]*\\)\\)", "(a character)")
                    .replaceAll("Unrecognized token '(?:[^'\\\\]|\\\\.)*'", "Unrecognized token")
                    .replaceAll("\\s+", " ").strip();
            throw CliException.usage("malformed JSON for " + where + position + ": " + reason);
        }
        if (node == null || node.isMissingNode() || node.isNull()) {
            throw CliException.usage("no entity for " + where + ": the JSON text is empty or null");
        }
        if (!node.isObject()) {
            // an entity is an object: typed readers of the stored value fail on anything else, much later
            throw CliException.usage("the entity for " + where + " must be a JSON object ({...}), got " + kind(node));
        }
        return node;
    }

    private static String kind(JsonNode node) {
        if (node.isArray()) {
            return "an array of " + node.size() + " element(s)";
        }
        if (node.isTextual()) {
            return "a string";
        }
        if (node.isNumber()) {
            return "a number";
        }
        if (node.isBoolean()) {
            return "a boolean";
        }
        return node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
    }

    /** Compact JSON text of anything Jackson can write. */
    static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON output", e);
        }
    }

    /** Indented JSON text. */
    static String pretty(Object value) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON output", e);
        }
    }

    /**
     * The same tree with object fields sorted by name at every level, so equal content gives equal
     * text. Numbers stay as they are: 12.3 and 12.30, 1 and 1.0, 0.0 and -0.0 are different stored
     * values (a reader of a BigDecimal, of a double's sign, tells them apart).
     */
    static JsonNode canonical(JsonNode node) {
        if (node.isObject()) {
            ObjectNode sorted = MAPPER.createObjectNode();
            List<String> names = new ArrayList<>();
            node.fieldNames().forEachRemaining(names::add);
            names.sort(null);
            for (String n : names) {
                sorted.set(n, canonical(node.get(n)));
            }
            return sorted;
        }
        if (node.isArray()) {
            ArrayNode copy = MAPPER.createArrayNode();
            for (Iterator<JsonNode> it = node.elements(); it.hasNext(); ) {
                copy.add(canonical(it.next()));
            }
            return copy;
        }
        return node;
    }

    static byte[] canonicalBytes(JsonNode node) {
        return write(canonical(node)).getBytes(StandardCharsets.UTF_8);
    }

    /** A running SHA-256 over (id, canonical JSON) pairs fed in id order. */
    static final class ContentHash {
        private final MessageDigest digest = sha256();
        private long count;

        void add(String id, JsonNode value) {
            add(id, canonicalBytes(value));
        }

        /** {@code json}: the {@link #canonicalBytes} of the value. */
        void add(String id, byte[] json) {
            byte[] idBytes = id.getBytes(StandardCharsets.UTF_8);
            digest.update(intBytes(idBytes.length));
            digest.update(idBytes);
            digest.update(intBytes(json.length));
            digest.update(json);
            count++;
        }

        long count() {
            return count;
        }

        String hex() {
            return HexFormat.of().formatHex(digest.digest());
        }

        private static byte[] intBytes(int v) {
            return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    /** A JSON object from alternating names and values, in order. */
    static Map<String, Object> object(Object... namesAndValues) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            m.put((String) namesAndValues[i], namesAndValues[i + 1]);
        }
        return m;
    }
}
