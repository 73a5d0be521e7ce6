package dev.reliablestore.basic;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.reliablestore.api.DataIntegrityException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * A document's CRC32C: the last member, {@code ,"crc32c":"xxxxxxxx"}, covers every byte before it.
 * Kept as a member of the JSON object so that readers which do not know it still read the document.
 */
final class DocumentChecksum {

    private static final byte[] KEY = ",\"crc32c\":\"".getBytes(StandardCharsets.US_ASCII);
    /** The key, 8 hex digits, {@code "}} and a newline. */
    private static final int TAIL = KEY.length + 8 + 3;

    private DocumentChecksum() {
    }

    /** The document ({@code {...} without its closing brace}) with its checksum and end appended. */
    static byte[] append(byte[] open) {
        byte[] tail = (new String(KEY, StandardCharsets.US_ASCII) + String.format("%08x", crc(open, open.length)) + "\"}\n")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] doc = Arrays.copyOf(open, open.length + tail.length);
        System.arraycopy(tail, 0, doc, open.length, tail.length);
        return doc;
    }

    /** Whether the document ends with a checksum member (a damaged one included). */
    static boolean has(byte[] doc) {
        int at = keyAt(doc);
        if (at < 0) {
            return false;
        }
        if (asWritten(doc, at)) {
            return true;
        }
        // the key near the end, but not as the writer puts it: a damaged checksum, or the entity's own last
        // member in a document written before checksums ({"name":"x","crc32c":"1a2b3c4d"}}), which must read as before
        return !wellFormedWithoutChecksum(doc);
    }

    /**
     * The writer's end, {@code ,"crc32c":"} 8 hex digits {@code "}} and a newline: in well-formed JSON only the
     * document's own last member can be followed by nothing but its closing brace.
     */
    private static boolean asWritten(byte[] doc, int at) {
        if (doc.length - at != TAIL || doc[doc.length - 3] != '"' || doc[doc.length - 2] != '}' || doc[doc.length - 1] != '\n') {
            return false;
        }
        for (int i = at + KEY.length; i < at + KEY.length + 8; i++) {
            if (Character.digit(doc[i], 16) < 0) {
                return false;
            }
        }
        return true;
    }

    /** Whether the document is one well-formed JSON object without a top-level {@code crc32c} member. */
    private static boolean wellFormedWithoutChecksum(byte[] doc) {
        try (JsonParser p = FileStoreFactory.FRAME.createParser(doc)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return false;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                if (p.currentName().equals("crc32c")) {
                    return false;
                }
                p.nextToken();
                p.skipChildren();
            }
            return p.currentToken() == JsonToken.END_OBJECT && p.nextToken() == null;
        } catch (IOException e) {
            return false; // not well-formed: its checksum, damaged, is what says so
        }
    }

    private static int keyAt(byte[] doc) {
        int from = Math.max(0, doc.length - TAIL - 8);
        for (int i = doc.length - KEY.length; i >= from; i--) {
            if (Arrays.equals(doc, i, i + KEY.length, KEY, 0, KEY.length)) {
                return i;
            }
        }
        return -1;
    }

    /** Checks the checksum of a document that {@link #has} one. */
    static void verify(byte[] doc, Path file) {
        int at = keyAt(doc);
        String stored = doc.length - at == TAIL
                ? new String(doc, at + KEY.length, 8, StandardCharsets.US_ASCII) : "(malformed)";
        String computed = String.format("%08x", crc(doc, at));
        if (!computed.equals(stored) || doc[doc.length - 3] != '"' || doc[doc.length - 2] != '}' || doc[doc.length - 1] != '\n') {
            throw new DataIntegrityException("file " + file + " fails its CRC32C check (stored " + stored
                    + ", computed " + computed + " over " + at + " bytes): the document is damaged");
        }
    }

    /** A document without checksum, without its closing brace (to {@link #append} one). */
    static byte[] withoutEnd(byte[] doc, Path file) {
        int end = doc.length;
        while (end > 0 && Character.isWhitespace(doc[end - 1])) {
            end--;
        }
        if (end == 0 || doc[end - 1] != '}') {
            throw new DataIntegrityException("file " + file + " does not end with '}', so it is not a complete document");
        }
        return Arrays.copyOf(doc, end - 1);
    }

    private static long crc(byte[] bytes, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, length);
        return crc.getValue();
    }
}
