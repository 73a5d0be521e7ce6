package dev.reliablestore.registry;

/** The type of a registry value, with the Windows {@code REG_*} code it maps to. */
public enum ValueType {
    /** REG_SZ: a string, stored as UTF-16LE with a terminating NUL. */
    SZ(1),
    /** REG_BINARY: raw bytes. */
    BINARY(3),
    /** REG_DWORD: a 32-bit integer, little-endian. */
    DWORD(4),
    /** REG_MULTI_SZ: a list of non-empty strings, each UTF-16LE NUL-terminated, then one more NUL. */
    MULTI_SZ(7),
    /** REG_QWORD: a 64-bit integer, little-endian. */
    QWORD(11);

    private final int windowsCode;

    ValueType(int windowsCode) {
        this.windowsCode = windowsCode;
    }

    /** The {@code REG_*} constant of winnt.h. */
    public int windowsCode() {
        return windowsCode;
    }

    /** The type for a {@code REG_*} code. */
    public static ValueType fromWindowsCode(int code) {
        for (ValueType t : values()) {
            if (t.windowsCode == code) {
                return t;
            }
        }
        throw new RegistryArgumentException("registry value type code " + code + " is not one of SZ(1), BINARY(3), DWORD(4), MULTI_SZ(7), QWORD(11)");
    }
}
