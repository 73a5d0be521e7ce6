package dev.reliablestore.registry.clusapi;

import java.util.Arrays;

/**
 * A raw cluster-registry value: its {@code REG_*} type and its bytes.
 *
 * @param type the {@code REG_*} code
 * @param data the bytes as stored
 */
public record RegValue(int type, byte[] data) {

    public RegValue {
        data = data.clone();
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RegValue v && v.type == type && Arrays.equals(v.data, data);
    }

    @Override
    public int hashCode() {
        return 31 * type + Arrays.hashCode(data);
    }

    /** Type and size only: values may be secret. */
    @Override
    public String toString() {
        return "RegValue[type=" + type + ", " + data.length + " bytes]";
    }
}
