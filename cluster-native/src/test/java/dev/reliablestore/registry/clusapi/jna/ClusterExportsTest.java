package dev.reliablestore.registry.clusapi.jna;

import com.sun.jna.Library;
import com.sun.jna.win32.StdCallLibrary;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every function the bindings declare is an export of its DLL, per the checked-in export lists
 * (src/test/resources/clusapi/*.exports, from the SDK import-library map the reference cites). A
 * misspelt method name would only fail at run time on Windows; here it fails the build.
 */
class ClusterExportsTest {

    /** Resapi.h declares these without WINAPI: cdecl on x86, so they must not be in a StdCallLibrary. */
    static final Set<String> RESUTILS_CDECL = Set.of("InitializeClusterHealthFault", "InitializeClusterHealthFaultArray",
            "FreeClusterHealthFault", "FreeClusterHealthFaultArray");

    static Set<String> exports(String resource) throws IOException {
        Set<String> names = new TreeSet<>();
        try (InputStream in = ClusterExportsTest.class.getResourceAsStream("/clusapi/" + resource)) {
            assertThat(in).as(resource).isNotNull();
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null; ) {
                line = line.strip();
                if (!line.isEmpty() && !line.startsWith("#")) {
                    names.add(line);
                }
            }
        }
        return names;
    }

    /** The binding methods of a JNA interface (abstract methods; static helpers are not native functions). */
    static List<String> boundFunctions(Class<?> library) {
        List<String> names = new ArrayList<>();
        for (Method m : library.getDeclaredMethods()) {
            if (Modifier.isAbstract(m.getModifiers())) {
                names.add(m.getName());
            }
        }
        return names;
    }

    /** Problems with a binding interface against an export list; empty when every name resolves unambiguously. */
    static List<String> problems(Class<?> library, Set<String> exports) {
        List<String> problems = new ArrayList<>();
        for (String name : boundFunctions(library)) {
            if (!exports.contains(name)) {
                problems.add(library.getSimpleName() + "." + name + " is not an export of the DLL");
            }
            // W32APIFunctionMapper.UNICODE tries name + "W" first: there must be no such export
            if (exports.contains(name + "W")) {
                problems.add(library.getSimpleName() + "." + name + " would resolve to " + name + "W");
            }
        }
        return problems;
    }

    @Test
    void everyClusApiFunctionIsAClusapiExport() throws IOException {
        assertThat(boundFunctions(ClusApi.class)).hasSizeGreaterThan(100);
        assertThat(problems(ClusApi.class, exports("clusapi.exports"))).isEmpty();
    }

    @Test
    void everyResUtilsFunctionIsAResutilsExport() throws IOException {
        Set<String> resutils = exports("resutils.exports");
        assertThat(problems(ResUtils.class, resutils)).isEmpty();
        assertThat(problems(ResUtils.Cdecl.class, resutils)).isEmpty();
        assertThat(boundFunctions(ResUtils.class)).containsExactlyInAnyOrder("ClusGetClusterHealthFaults",
                "ClusAddClusterHealthFault", "ClusRemoveClusterHealthFault");
    }

    @Test
    void callingConventionsFollowTheHeader() {
        assertThat(StdCallLibrary.class).isAssignableFrom(ClusApi.class);
        assertThat(StdCallLibrary.class).isAssignableFrom(ResUtils.class);
        assertThat(StdCallLibrary.class.isAssignableFrom(ResUtils.Cdecl.class)).isFalse();
        assertThat(Library.class).isAssignableFrom(ResUtils.Cdecl.class);
        assertThat(boundFunctions(ResUtils.Cdecl.class)).containsExactlyInAnyOrderElementsOf(RESUTILS_CDECL);
    }

    @Test
    void theSeedsAndTheIssueFunctionsAreBound() {
        List<String> bound = boundFunctions(ClusApi.class);
        assertThat(bound).contains("OpenCluster", "OpenClusterEx", "CloseCluster", "GetClusterInformation",
                "ClusterOpenEnum", "ClusterEnum", "ClusterCloseEnum", "ClusterGetEnumCount", "ClusterNodeOpenEnum",
                "ClusterGroupOpenEnum", "ClusterResourceOpenEnum", "ClusterNetworkOpenEnum", "GetClusterNodeState",
                "PauseClusterNodeEx", "ResumeClusterNodeEx", "GetClusterGroupState", "MoveClusterGroup",
                "OnlineClusterGroup", "OfflineClusterGroup", "ClusterResourceControl", "AddClusterNode",
                "ClusterRegCreateBatch", "ClusterRegBatchAddCommand", "ClusterRegCloseBatch", "ClusterRegCloseBatchEx",
                "ClusterRegCreateReadBatch", "ClusterRegReadBatchAddCommand", "ClusterRegCloseReadBatchEx",
                "ClusterRegReadBatchReplyNextCommand", "ClusterRegCloseReadBatchReply",
                "ClusterRegCreateBatchNotifyPort", "ClusterRegGetBatchNotification", "ClusterRegBatchReadCommand",
                "ClusterRegBatchCloseNotification", "ClusterRegCloseBatchNotifyPort", "CreateClusterNotifyPort",
                "RegisterClusterNotify", "GetClusterNotify", "CreateClusterNotifyPortV2", "RegisterClusterNotifyV2",
                "GetClusterNotifyV2", "GetNotifyEventHandle", "CloseClusterNotifyPort", "ClusterRegGetKeySecurity",
                "ClusterRegSetKeySecurity");
    }

    /** The negative control: a misspelt binding is reported. */
    @Test
    void aMisspeltBindingIsReported() throws IOException {
        assertThat(problems(Misspelt.class, exports("clusapi.exports")))
                .containsExactlyInAnyOrder("Misspelt.ClusterRegOpenKeyW is not an export of the DLL",
                        "Misspelt.OpenClusterGroupp is not an export of the DLL");
    }

    interface Misspelt extends StdCallLibrary {
        int ClusterRegOpenKeyW();

        int OpenClusterGroupp();

        int OpenCluster();
    }
}
