package dev.reliablestore.registry.clusapi.jna;

import com.sun.jna.Native;
import com.sun.jna.Structure;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.CLUSTERVERSIONINFO;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.CLUSTER_BATCH_COMMAND;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.CLUSTER_HEALTH_FAULT;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.CLUSTER_HEALTH_FAULT_ARRAY;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.CLUSTER_READ_BATCH_COMMAND;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.NOTIFY_FILTER_AND_TYPE;
import dev.reliablestore.registry.clusapi.jna.WindowsLayoutModel.Abi;
import dev.reliablestore.registry.clusapi.jna.WindowsLayoutModel.Align;
import dev.reliablestore.registry.clusapi.jna.WindowsLayoutModel.Layout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every {@link Structure} of the binding has, on Windows x64 and x86, exactly the size and field
 * offsets that the reference (clusapi-reference.md, from the SDK header and gcc with MSVC alignment)
 * gives. The offsets are computed with {@link WindowsLayoutModel}, which is first shown to reproduce
 * JNA's own layout on this host (with the host's sizes, under both GNUC and MSVC alignment).
 */
class StructureLayoutTest {

    /** The reference's tables: struct → {x64 size, x64 offsets...}, {x86 size, x86 offsets...}, in field order. */
    static final Map<Class<? extends Structure>, int[][]> REFERENCE = new LinkedHashMap<>();

    static {
        REFERENCE.put(CLUSTERVERSIONINFO.class, new int[][]{
                {284, 0, 4, 6, 8, 10, 138, 268, 272, 276, 280},
                {284, 0, 4, 6, 8, 10, 138, 268, 272, 276, 280}});
        REFERENCE.put(CLUSTER_BATCH_COMMAND.class, new int[][]{
                {32, 0, 4, 8, 16, 24},
                {20, 0, 4, 8, 12, 16}});
        REFERENCE.put(CLUSTER_READ_BATCH_COMMAND.class, new int[][]{
                {40, 0, 4, 8, 16, 24, 32},
                {24, 0, 4, 8, 12, 16, 20}});
        REFERENCE.put(NOTIFY_FILTER_AND_TYPE.class, new int[][]{
                {16, 0, 8},
                {16, 0, 8}});
        REFERENCE.put(NOTIFY_FILTER_AND_TYPE.ByValue.class, new int[][]{
                {16, 0, 8},
                {16, 0, 8}});
        REFERENCE.put(CLUSTER_HEALTH_FAULT.class, new int[][]{
                {40, 0, 8, 12, 16, 24, 32, 36},
                {28, 0, 4, 8, 12, 16, 20, 24}});
        REFERENCE.put(CLUSTER_HEALTH_FAULT_ARRAY.class, new int[][]{
                {16, 0, 8},
                {8, 0, 4}});
    }

    static Stream<Class<? extends Structure>> structures() {
        return REFERENCE.keySet().stream();
    }

    /** Mismatches between the model's layout on {@code abi} and the expected {size, offsets...}; empty when equal. */
    static List<String> mismatches(Class<? extends Structure> type, Abi abi, int[] expected) {
        Layout l = WindowsLayoutModel.layout(type, abi);
        List<String> out = new ArrayList<>();
        if (l.size() != expected[0]) {
            out.add(type.getSimpleName() + " on " + abi.name() + ": size " + l.size() + ", reference " + expected[0]);
        }
        List<Map.Entry<String, Integer>> fields = new ArrayList<>(l.offsets().entrySet());
        if (fields.size() != expected.length - 1) {
            out.add(type.getSimpleName() + ": " + fields.size() + " fields, reference has " + (expected.length - 1));
            return out;
        }
        for (int i = 0; i < fields.size(); i++) {
            if (fields.get(i).getValue() != expected[i + 1]) {
                out.add(type.getSimpleName() + "." + fields.get(i).getKey() + " on " + abi.name() + ": offset "
                        + fields.get(i).getValue() + ", reference " + expected[i + 1]);
            }
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("structures")
    void windowsX64LayoutMatchesTheReference(Class<? extends Structure> type) {
        assertThat(mismatches(type, WindowsLayoutModel.WIN64, REFERENCE.get(type)[0])).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("structures")
    void windowsX86LayoutMatchesTheReference(Class<? extends Structure> type) {
        assertThat(mismatches(type, WindowsLayoutModel.WIN32, REFERENCE.get(type)[1])).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("structures")
    void modelReproducesJnaOnThisHost(Class<? extends Structure> type) throws Exception {
        Abi hostGnu = new Abi("host/GNUC", Native.POINTER_SIZE, Native.WCHAR_SIZE, Native.LONG_SIZE, Align.GNUC,
                maxAlignment());
        Abi hostMsvc = new Abi("host/MSVC", Native.POINTER_SIZE, Native.WCHAR_SIZE, Native.LONG_SIZE, Align.MSVC, 8);
        assertThat(jnaLayout(type, Structure.ALIGN_GNUC)).isEqualTo(WindowsLayoutModel.layout(type, hostGnu));
        assertThat(jnaLayout(type, Structure.ALIGN_MSVC)).isEqualTo(WindowsLayoutModel.layout(type, hostMsvc));
    }

    @Test
    void everyStructureOfTheBindingHasReferenceValues() {
        List<Class<?>> declared = new ArrayList<>();
        collect(ClusApiTypes.class, declared);
        assertThat(declared).isNotEmpty();
        assertThat(REFERENCE.keySet()).containsAll(declared.stream()
                .map(c -> c.asSubclass(Structure.class)).toList());
    }

    /** The negative controls: wrong layouts are caught. */
    @Test
    void aWrongLayoutIsDetected() {
        int[][] ref = REFERENCE.get(CLUSTER_BATCH_COMMAND.class);
        // pointer and DWORD swapped: caught on x64; on x86 both are 4 bytes, so only x64 can see it
        assertThat(mismatches(SwappedBatchCommand.class, WindowsLayoutModel.WIN64, ref[0]))
                .contains("SwappedBatchCommand on Windows x64: size 40, reference 32",
                        "SwappedBatchCommand.cbData on Windows x64: offset 32, reference 24");
        assertThat(mismatches(SwappedBatchCommand.class, WindowsLayoutModel.WIN32, ref[1])).isEmpty();
        // a DWORD mapped to long: invisible on x64 (padding hides it), caught on x86 -- why both ABIs are checked
        assertThat(mismatches(LongCountBatchCommand.class, WindowsLayoutModel.WIN64, ref[0])).isEmpty();
        assertThat(mismatches(LongCountBatchCommand.class, WindowsLayoutModel.WIN32, ref[1]))
                .containsExactly("LongCountBatchCommand on Windows x86: size 24, reference 20");
        // CHAR instead of WCHAR in CLUSTERVERSIONINFO
        int[][] cvi = REFERENCE.get(CLUSTERVERSIONINFO.class);
        assertThat(mismatches(ByteVersionInfo.class, WindowsLayoutModel.WIN64, cvi[0]))
                .contains("ByteVersionInfo on Windows x64: size 156, reference 284");
    }

    @Structure.FieldOrder({"Command", "wzName", "dwOptions", "lpData", "cbData"})
    public static class SwappedBatchCommand extends Structure {
        public int Command;
        public com.sun.jna.Pointer wzName;
        public int dwOptions;
        public com.sun.jna.Pointer lpData;
        public int cbData;
    }

    @Structure.FieldOrder({"Command", "dwOptions", "wzName", "lpData", "cbData"})
    public static class LongCountBatchCommand extends Structure {
        public int Command;
        public int dwOptions;
        public com.sun.jna.Pointer wzName;
        public com.sun.jna.Pointer lpData;
        public long cbData;
    }

    @Structure.FieldOrder({"dwVersionInfoSize", "MajorVersion", "MinorVersion", "BuildNumber", "szVendorId",
            "szCSDVersion", "dwClusterHighestVersion", "dwClusterLowestVersion", "dwFlags", "dwReserved"})
    public static class ByteVersionInfo extends Structure {
        public int dwVersionInfoSize;
        public short MajorVersion;
        public short MinorVersion;
        public short BuildNumber;
        public byte[] szVendorId = new byte[64];
        public byte[] szCSDVersion = new byte[64];
        public int dwClusterHighestVersion;
        public int dwClusterLowestVersion;
        public int dwFlags;
        public int dwReserved;
    }

    private static void collect(Class<?> owner, List<Class<?>> out) {
        for (Class<?> c : owner.getDeclaredClasses()) {
            if (Structure.class.isAssignableFrom(c)) {
                out.add(c);
            }
            collect(c, out);
        }
    }

    private static Layout jnaLayout(Class<? extends Structure> type, int alignType) throws Exception {
        Structure s = WindowsLayoutModel.newInstance(type);
        Method setAlign = Structure.class.getDeclaredMethod("setAlignType", int.class);
        setAlign.setAccessible(true);
        setAlign.invoke(s, alignType);
        Method fieldOffset = Structure.class.getDeclaredMethod("fieldOffset", String.class);
        fieldOffset.setAccessible(true);
        Method structAlign = Structure.class.getDeclaredMethod("getStructAlignment");
        structAlign.setAccessible(true);
        Map<String, Integer> offsets = new LinkedHashMap<>();
        for (String f : WindowsLayoutModel.fieldOrder(type)) {
            offsets.put(f, (Integer) fieldOffset.invoke(s, f));
        }
        return new Layout(s.size(), (Integer) structAlign.invoke(s), offsets);
    }

    /** JNA's platform cap for GNUC alignment (package-private in Native). */
    private static int maxAlignment() throws Exception {
        java.lang.reflect.Field f = Native.class.getDeclaredField("MAX_ALIGNMENT");
        f.setAccessible(true);
        return f.getInt(null);
    }

    @Test
    void referenceTablesAreConsistent() {
        REFERENCE.forEach((type, v) -> assertThat(v[0].length).as(type.getSimpleName())
                .isEqualTo(WindowsLayoutModel.fieldOrder(type).size() + 1));
        assertThat(Arrays.stream(REFERENCE.get(CLUSTERVERSIONINFO.class)[0]).sum()).isPositive();
    }
}
