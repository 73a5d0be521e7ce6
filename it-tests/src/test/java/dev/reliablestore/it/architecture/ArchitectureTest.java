package dev.reliablestore.it.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The module and package graph of docs/architecture.md ("Modules" and "Boundaries"), checked on
 * the compiled main code of every module: the compiler only sees what a module's pom lets it see,
 * so a dependency that the graph forbids but the poms allow (the provider reaching into a backend,
 * a backend into another) would otherwise go unnoticed. The benchmarks (a shaded tool jar, not
 * shipped to users) are not checked.
 */
class ArchitectureTest {

    private static final String API = "dev.reliablestore.api..";
    private static final String SPI = "dev.reliablestore.spi..";
    private static final String CODEC = "dev.reliablestore.codec..";
    private static final String REGISTRY = "dev.reliablestore.registry..";
    private static final String[] BACKENDS_AND_SPI = {"dev.reliablestore.registry.embedded..", "dev.reliablestore.registry.zookeeper..",
            "dev.reliablestore.registry.clusapi..", "dev.reliablestore.registry.spi.."};

    /** The CLI's `zk` command and its nested subcommands. */
    private static final String ZK_COMMAND = "dev\\.reliablestore\\.cli\\.ZkCommand(\\$.*)?";

    private static JavaClasses main;

    /** Main code only, from jars or class directories alike: no test classes, no test-jars. */
    static final class MainCodeOnly implements ImportOption {
        @Override
        public boolean includes(Location location) {
            return !location.contains("/test-classes/") && !location.contains("-tests.jar");
        }
    }

    @BeforeAll
    static void importMainCode() {
        main = new ClassFileImporter().withImportOption(new MainCodeOnly()).importPackages("dev.reliablestore");
        // a rule over an empty import passes whatever the code does: make sure every module is there
        for (String pkg : new String[] {"dev.reliablestore.options", "dev.reliablestore.api", "dev.reliablestore.basic", "dev.reliablestore.registry.embedded",
                "dev.reliablestore.cluster", "dev.reliablestore.tx", "dev.reliablestore.tx.jta", "dev.reliablestore.cli", "dev.reliablestore.spring.boot", "dev.reliablestore.spring.data"}) {
            assertThat(main.containPackage(pkg)).as("main code of %s imported", pkg).isTrue();
        }
    }

    @Test
    void modulesDependOnlyDownwards() {
        ArchRule rule = layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("options").definedBy("dev.reliablestore.options..")
                .layer("persistence-api").definedBy(API, SPI, CODEC)
                .layer("basic-providers").definedBy("dev.reliablestore.basic..")
                .layer("tx").definedBy("dev.reliablestore.tx")
                .layer("tx-narayana").definedBy("dev.reliablestore.tx.jta..")
                .layer("cluster-native").definedBy(REGISTRY)
                .layer("cluster-registry-provider").definedBy("dev.reliablestore.cluster..")
                .layer("cli").definedBy("dev.reliablestore.cli..")
                .layer("spring-boot-starter").definedBy("dev.reliablestore.spring.boot..")
                .layer("spring-data").definedBy("dev.reliablestore.spring.data..")
                .whereLayer("options").mayNotAccessAnyLayer()
                .whereLayer("persistence-api").mayOnlyAccessLayers("options")
                .whereLayer("cluster-native").mayOnlyAccessLayers("options")
                .whereLayer("basic-providers").mayOnlyAccessLayers("options", "persistence-api")
                .whereLayer("tx").mayOnlyAccessLayers("options", "persistence-api")
                .whereLayer("tx-narayana").mayOnlyAccessLayers("options", "persistence-api", "tx")
                .whereLayer("cluster-registry-provider").mayOnlyAccessLayers("options", "persistence-api", "cluster-native")
                .whereLayer("cli").mayOnlyAccessLayers("options", "persistence-api", "cluster-native", "cluster-registry-provider", "basic-providers")
                .whereLayer("spring-boot-starter").mayOnlyAccessLayers("options", "persistence-api", "cluster-native", "cluster-registry-provider", "tx-narayana")
                .whereLayer("spring-data").mayOnlyAccessLayers("options", "persistence-api");
        rule.check(main);
    }

    @Test
    void theRegistryContractKnowsNoBackend() {
        noClasses().that().resideInAPackage("dev.reliablestore.registry")
                .should().dependOnClassesThat().resideInAnyPackage(BACKENDS_AND_SPI[0], BACKENDS_AND_SPI[1], BACKENDS_AND_SPI[2])
                .because("backends are found by URI scheme through ServiceLoader")
                .check(main);
    }

    @Test
    void backendsDoNotReachIntoEachOther() {
        noClasses().that().resideInAPackage("dev.reliablestore.registry.embedded..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.reliablestore.registry.zookeeper..", "dev.reliablestore.registry.clusapi..")
                .check(main);
        noClasses().that().resideInAPackage("dev.reliablestore.registry.zookeeper..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.reliablestore.registry.embedded..", "dev.reliablestore.registry.clusapi..")
                .check(main);
        noClasses().that().resideInAPackage("dev.reliablestore.registry.clusapi..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.reliablestore.registry.embedded..", "dev.reliablestore.registry.zookeeper..")
                .check(main);
    }

    @Test
    void backendInternalsStayInTheRegistryModule() {
        // the CLI's `zk secure` command is the one user of a backend's public class
        noClasses().that().resideOutsideOfPackage(REGISTRY)
                .and().haveNameNotMatching(ZK_COMMAND)
                .should().dependOnClassesThat().resideInAnyPackage(BACKENDS_AND_SPI)
                .because("the provider and the tools use the ClusterRegistry contract, never a backend's classes, the JNA bindings or ChangeDispatcher")
                .check(main);
        noClasses().that().haveNameMatching(ZK_COMMAND)
                .should().dependOnClassesThat().resideInAnyPackage("dev.reliablestore.registry.embedded..", "dev.reliablestore.registry.clusapi..",
                        "dev.reliablestore.registry.spi..")
                .check(main);
    }

    @Test
    void thirdPartyEnginesStayInTheirModules() {
        noClasses().that().resideOutsideOfPackage("dev.reliablestore.tx.jta..")
                .should().dependOnClassesThat().resideInAnyPackage("com.arjuna..", "javax.transaction..", "jakarta.transaction..")
                .because("only tx-narayana brings Narayana and JTA")
                .check(main);
        noClasses().that().resideOutsideOfPackage("dev.reliablestore.cli..")
                .should().dependOnClassesThat().resideInAnyPackage("picocli..")
                .check(main);
        noClasses().that().resideOutsideOfPackage("dev.reliablestore.registry.zookeeper..")
                .should().dependOnClassesThat().resideInAnyPackage("org.apache.zookeeper..", "org.apache.curator..")
                .check(main);
        noClasses().that().resideOutsideOfPackage("dev.reliablestore.registry.clusapi..")
                .should().dependOnClassesThat().resideInAnyPackage("com.sun.jna..")
                .check(main);
    }
}
