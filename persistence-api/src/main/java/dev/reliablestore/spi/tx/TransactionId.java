package dev.reliablestore.spi.tx;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The identity of one transaction branch, shaped like an XA {@code Xid}: a format id, a global
 * transaction id shared by every branch of the transaction, and a branch qualifier that tells the
 * branches of one global transaction apart.
 *
 * <p>Limits are those of XA: the global id is 1..{@value #MAX_PART_BYTES} bytes, the branch
 * qualifier 0..{@value #MAX_PART_BYTES} bytes, the format id is 0 or more (XA's -1 means "null
 * Xid" and is refused). Instances are immutable; the byte arrays are copied in and out.
 */
public final class TransactionId {

    /** The longest global id or branch qualifier, in bytes (XA's MAXGTRIDSIZE and MAXBQUALSIZE). */
    public static final int MAX_PART_BYTES = 64;

    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder DECODER = Base64.getUrlDecoder();

    private final int formatId;
    private final byte[] globalId;
    private final byte[] branchQualifier;

    private TransactionId(int formatId, byte[] globalId, byte[] branchQualifier) {
        if (formatId < 0) {
            throw new IllegalArgumentException("transaction format id must be 0 or more, got " + formatId);
        }
        Objects.requireNonNull(globalId, "globalId");
        Objects.requireNonNull(branchQualifier, "branchQualifier");
        if (globalId.length < 1 || globalId.length > MAX_PART_BYTES) {
            throw new IllegalArgumentException("global transaction id must be 1.." + MAX_PART_BYTES
                    + " bytes, got " + globalId.length);
        }
        if (branchQualifier.length > MAX_PART_BYTES) {
            throw new IllegalArgumentException("branch qualifier must be 0.." + MAX_PART_BYTES
                    + " bytes, got " + branchQualifier.length);
        }
        this.formatId = formatId;
        this.globalId = globalId.clone();
        this.branchQualifier = branchQualifier.clone();
    }

    /** A branch id from its three parts (copied). */
    public static TransactionId of(int formatId, byte[] globalId, byte[] branchQualifier) {
        return new TransactionId(formatId, globalId, branchQualifier);
    }

    /** A branch id whose global id and qualifier are the UTF-8 bytes of the strings. */
    public static TransactionId of(int formatId, String globalId, String branchQualifier) {
        return new TransactionId(formatId, globalId.getBytes(StandardCharsets.UTF_8),
                branchQualifier.getBytes(StandardCharsets.UTF_8));
    }

    public int formatId() {
        return formatId;
    }

    /** A copy of the global transaction id. */
    public byte[] globalId() {
        return globalId.clone();
    }

    /** A copy of the branch qualifier. */
    public byte[] branchQualifier() {
        return branchQualifier.clone();
    }

    /**
     * A compact text form, {@code <formatId>.<globalId>.<qualifier>} with both byte strings in
     * unpadded URL-safe Base64. It contains only {@code [0-9A-Za-z._-]}, is at most 186
     * characters, and is therefore usable as one registry key segment or file name.
     */
    public String toToken() {
        return formatId + "." + ENCODER.encodeToString(globalId) + "." + ENCODER.encodeToString(branchQualifier);
    }

    /**
     * Parses {@link #toToken()}.
     *
     * @throws IllegalArgumentException naming the token when it is not one
     */
    public static TransactionId fromToken(String token) {
        Objects.requireNonNull(token, "token");
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3) {
            throw new IllegalArgumentException("not a transaction id token (expected <formatId>.<gtrid>.<bqual>): \"" + token + "\"");
        }
        try {
            return new TransactionId(Integer.parseInt(parts[0]), DECODER.decode(parts[1]), DECODER.decode(parts[2]));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a transaction id token: \"" + token + "\": " + e.getMessage(), e);
        }
    }

    /** Whether this and {@code other} are branches of the same global transaction. */
    public boolean sameGlobalTransaction(TransactionId other) {
        return formatId == other.formatId && Arrays.equals(globalId, other.globalId);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TransactionId t && formatId == t.formatId
                && Arrays.equals(globalId, t.globalId) && Arrays.equals(branchQualifier, t.branchQualifier);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * formatId + Arrays.hashCode(globalId)) + Arrays.hashCode(branchQualifier);
    }

    @Override
    public String toString() {
        HexFormat hex = HexFormat.of();
        return "TransactionId[" + formatId + ":" + hex.formatHex(globalId) + ":" + hex.formatHex(branchQualifier) + "]";
    }
}
