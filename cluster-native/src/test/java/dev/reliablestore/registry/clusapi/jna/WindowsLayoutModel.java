package dev.reliablestore.registry.clusapi.jna;

import com.sun.jna.Callback;
import com.sun.jna.NativeLong;
import com.sun.jna.NativeMapped;
import com.sun.jna.Pointer;
import com.sun.jna.PointerType;
import com.sun.jna.Structure;
import com.sun.jna.WString;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Computes a JNA {@link Structure}'s layout for a target ABI without running on it: the same
 * algorithm as JNA's {@code Structure.deriveLayout}/{@code getNativeAlignment} (field offset aligned
 * to the field's alignment; primitives align to their size, pointers to the pointer size, arrays to
 * their element, nested structures to their own alignment; MSVC caps alignment at 8, GNUC at the
 * platform maximum; the size is padded to the largest alignment), but with the type sizes of the
 * target instead of the host's ({@code char} is WCHAR: 2 bytes on Windows, 4 on Linux; pointers are
 * 4 bytes on x86). {@code StructureLayoutTest} proves the model equals JNA's own result on the host
 * before trusting it for Windows.
 */
final class WindowsLayoutModel {

    enum Align { MSVC, GNUC }

    /** The native sizes that decide a layout. */
    record Abi(String name, int pointerSize, int wcharSize, int nativeLongSize, Align align, int maxAlignment) {
    }

    static final Abi WIN64 = new Abi("Windows x64", 8, 2, 4, Align.MSVC, 8);
    static final Abi WIN32 = new Abi("Windows x86", 4, 2, 4, Align.MSVC, 8);

    /** A computed layout: total size, alignment and each field's offset in declaration order. */
    record Layout(int size, int alignment, Map<String, Integer> offsets) {
    }

    private WindowsLayoutModel() {
    }

    static Layout layout(Class<? extends Structure> type, Abi abi) {
        Structure instance = newInstance(type);
        List<String> order = fieldOrder(type);
        Map<String, Integer> offsets = new LinkedHashMap<>();
        int offset = 0;
        int structAlign = 1;
        for (String name : order) {
            Field f = field(type, name);
            Object value = get(f, instance);
            int size = sizeOf(f.getType(), value, abi);
            int align = alignOf(f.getType(), value, abi);
            structAlign = Math.max(structAlign, align);
            if (offset % align != 0) {
                offset += align - offset % align;
            }
            offsets.put(name, offset);
            offset += size;
        }
        if (offset % structAlign != 0) {
            offset += structAlign - offset % structAlign;
        }
        return new Layout(offset, structAlign, offsets);
    }

    private static int sizeOf(Class<?> t, Object value, Abi abi) {
        if (t.isArray()) {
            int n = java.lang.reflect.Array.getLength(value);
            Class<?> c = t.getComponentType();
            Object first = n > 0 ? java.lang.reflect.Array.get(value, 0) : null;
            return n * sizeOf(c, first, abi);
        }
        if (t == byte.class) return 1;
        if (t == short.class) return 2;
        if (t == char.class) return abi.wcharSize();
        if (t == int.class || t == float.class || t == boolean.class) return 4;
        if (t == long.class || t == double.class) return 8;
        if (t == NativeLong.class) return abi.nativeLongSize();
        if (isPointerLike(t)) return abi.pointerSize();
        if (Structure.class.isAssignableFrom(t)) {
            return layout(t.asSubclass(Structure.class), abi).size();
        }
        throw new IllegalArgumentException("the layout model does not know the native size of " + t);
    }

    private static int alignOf(Class<?> t, Object value, Abi abi) {
        int natural;
        if (t.isArray()) {
            natural = alignOf(t.getComponentType(), null, abi);
            return natural; // already capped below for the element type
        } else if (t.isPrimitive() || t == NativeLong.class) {
            natural = sizeOf(t, value, abi);
        } else if (isPointerLike(t)) {
            natural = abi.pointerSize();
        } else if (Structure.class.isAssignableFrom(t)) {
            natural = layout(t.asSubclass(Structure.class), abi).alignment();
        } else {
            throw new IllegalArgumentException("the layout model does not know the alignment of " + t);
        }
        return abi.align() == Align.MSVC ? Math.min(8, natural) : Math.min(abi.maxAlignment(), natural);
    }

    private static boolean isPointerLike(Class<?> t) {
        return Pointer.class.isAssignableFrom(t) || PointerType.class.isAssignableFrom(t) || t == String.class
                || t == WString.class || Callback.class.isAssignableFrom(t)
                || Structure.ByReference.class.isAssignableFrom(t)
                || (NativeMapped.class.isAssignableFrom(t) && PointerType.class.isAssignableFrom(t));
    }

    static List<String> fieldOrder(Class<?> type) {
        for (Class<?> c = type; c != null && c != Structure.class; c = c.getSuperclass()) {
            Structure.FieldOrder fo = c.getAnnotation(Structure.FieldOrder.class);
            if (fo != null) {
                return List.of(fo.value());
            }
        }
        throw new IllegalArgumentException(type + " has no @FieldOrder");
    }

    private static Field field(Class<?> type, String name) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(name);
                if (!Modifier.isPublic(f.getModifiers())) {
                    throw new IllegalArgumentException(type + "." + name + " is not public; JNA would skip it");
                }
                return f;
            } catch (NoSuchFieldException e) {
                // look in the superclass
            }
        }
        throw new IllegalArgumentException(type + " has no field " + name);
    }

    private static Object get(Field f, Object o) {
        try {
            return f.get(o);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    static Structure newInstance(Class<? extends Structure> type) {
        try {
            return type.getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException(type + " needs a public no-argument constructor", e);
        }
    }
}
