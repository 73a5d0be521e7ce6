package dev.reliablestore.registry;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A typed registry value in its Windows wire form: the bytes are exactly what the cluster
 * database stores for that type, so sizes and equality are the same on every backend.
 * At most {@value #MAX_SIZE} bytes.
 */
public final class RegistryValue {

    /** The largest value, in bytes of its wire form (1 MiB). */
    public static final int MAX_SIZE = 1024 * 1024;

    private final ValueType type;
    private final byte[] data;

    private RegistryValue(ValueType type, byte[] data) {
        this.type = type;
        this.data = data;
    }

    /**
     * A value from its type and wire bytes (copied), checked for size and form.
     *
     * @throws RegistryLimitException when larger than {@link #MAX_SIZE}
     * @throws RegistryArgumentException when the bytes are not a valid encoding of the type
     */
    public static RegistryValue of(ValueType type, byte[] data) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(data, "data");
        checkSize(data.length);
        switch (type) {
            case DWORD -> requireLength(type, data, 4);
            case QWORD -> requireLength(type, data, 8);
            case SZ -> {
                if (data.length < 2 || data.length % 2 != 0 || data[data.length - 1] != 0 || data[data.length - 2] != 0) {
                    throw new RegistryArgumentException("SZ data must be UTF-16LE ending in a NUL character; got " + data.length + " bytes");
                }
            }
            case MULTI_SZ -> {
                if (data.length < 2 || data.length % 2 != 0 || data[data.length - 1] != 0 || data[data.length - 2] != 0) {
                    throw new RegistryArgumentException("MULTI_SZ data must be UTF-16LE ending in a NUL character; got " + data.length + " bytes");
                }
            }
            case BINARY -> {
            }
        }
        return new RegistryValue(type, data.clone());
    }

    public static RegistryValue binary(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        checkSize(bytes.length);
        return new RegistryValue(ValueType.BINARY, bytes.clone());
    }

    public static RegistryValue dword(int value) {
        return new RegistryValue(ValueType.DWORD, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array());
    }

    public static RegistryValue qword(long value) {
        return new RegistryValue(ValueType.QWORD, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
    }

    /** A string value; it must not contain NUL. */
    public static RegistryValue sz(String value) {
        Objects.requireNonNull(value, "value");
        if (value.indexOf('\0') >= 0) {
            throw new RegistryArgumentException("an SZ value cannot contain a NUL character (at index " + value.indexOf('\0') + ")");
        }
        byte[] chars = value.getBytes(StandardCharsets.UTF_16LE);
        checkSize(chars.length + 2L);
        return new RegistryValue(ValueType.SZ, Arrays.copyOf(chars, chars.length + 2));
    }

    /** A list of strings; each must be non-empty (an empty one would end the list) and contain no NUL. */
    public static RegistryValue multiSz(List<String> values) {
        Objects.requireNonNull(values, "values");
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < values.size(); i++) {
            String v = Objects.requireNonNull(values.get(i), "values[" + i + "]");
            if (v.isEmpty() || v.indexOf('\0') >= 0) {
                throw new RegistryArgumentException("MULTI_SZ entry " + i + " is empty or contains NUL; entries must be non-empty strings without NUL");
            }
            all.append(v).append('\0');
        }
        all.append('\0');
        byte[] bytes = all.toString().getBytes(StandardCharsets.UTF_16LE);
        checkSize(bytes.length);
        return new RegistryValue(ValueType.MULTI_SZ, bytes);
    }

    public ValueType type() {
        return type;
    }

    /** A copy of the wire bytes. */
    public byte[] data() {
        return data.clone();
    }

    /** The size of the wire form in bytes. */
    public int size() {
        return data.length;
    }

    /** The wire bytes without copying; callers must not modify them. Backends use this on hot paths. */
    public byte[] unsafeData() {
        return data;
    }

    /** Wraps wire bytes a backend has already validated (no copy, no checks). */
    public static RegistryValue trusted(ValueType type, byte[] data) {
        return new RegistryValue(type, data);
    }

    public byte[] asBinary() {
        requireType(ValueType.BINARY);
        return data.clone();
    }

    public int asDword() {
        requireType(ValueType.DWORD);
        return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    public long asQword() {
        requireType(ValueType.QWORD);
        return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    public String asSz() {
        requireType(ValueType.SZ);
        return new String(data, 0, data.length - 2, StandardCharsets.UTF_16LE);
    }

    public List<String> asMultiSz() {
        requireType(ValueType.MULTI_SZ);
        String all = new String(data, StandardCharsets.UTF_16LE);
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < all.length(); i++) {
            if (all.charAt(i) == '\0') {
                if (i == start) {
                    break;
                }
                out.add(all.substring(start, i));
                start = i + 1;
            }
        }
        return out;
    }

    private void requireType(ValueType expected) {
        if (type != expected) {
            throw new RegistryArgumentException("value is " + type + ", not " + expected);
        }
    }

    private static void requireLength(ValueType type, byte[] data, int length) {
        if (data.length != length) {
            throw new RegistryArgumentException(type + " data must be " + length + " bytes; got " + data.length);
        }
    }

    private static void checkSize(long size) {
        if (size > MAX_SIZE) {
            throw new RegistryLimitException("registry value is " + size + " bytes; the limit is " + MAX_SIZE + " bytes (1 MiB)", size, MAX_SIZE);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RegistryValue v && v.type == type && Arrays.equals(v.data, data);
    }

    @Override
    public int hashCode() {
        return 31 * type.hashCode() + Arrays.hashCode(data);
    }

    /** Type and size only: values may hold secrets and are never printed. */
    @Override
    public String toString() {
        return type + "[" + data.length + " bytes]";
    }
}
