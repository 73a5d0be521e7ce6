package dev.reliablestore.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.EntityTooLargeException;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreClosedException;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;

/** The auto-configured StoreFactory in real contexts on an embedded registry in a temp directory. */
class ReliableStoreAutoConfigurationTest {

    @TempDir
    Path dir;

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(ReliableStoreAutoConfiguration.class))
                .withPropertyValues(properties(dir));
    }

    static String[] properties(Path dir) {
        return new String[] {"reliablestore.options.clusterName=embedded:" + dir.resolve("registry"),
                "reliablestore.options.resourceGroupName=RG", "reliablestore.options.registryKeyPath=Software/App",
                // a backend option: its dotted name reaches the provider whole
                "reliablestore.options.registry.nodeName=spring-node"};
    }

    @Test
    void propertiesAreBoundAndPassedToTheProviderWhoseStoresSaveAndRead() {
        runner().run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(StoreFactory.class);
            ReliableStoreProperties properties = context.getBean(ReliableStoreProperties.class);
            assertThat(properties.getProvider()).isEqualTo("cluster-registry");
            assertThat(properties.getOptions()).containsEntry("registry.nodeName", "spring-node")
                    .containsEntry("resourceGroupName", "RG").hasSize(4);
            StoreFactory factory = context.getBean(StoreFactory.class);
            assertThat(factory.providerName()).isEqualTo("cluster-registry");
            EntityStore<Customer> customers = factory.store(Customer.class);
            long version = customers.save("c1", new Customer("Acme", 2));
            assertThat(customers.get("c1")).hasValueSatisfying(v -> {
                assertThat(v.value()).isEqualTo(new Customer("Acme", 2));
                assertThat(v.version()).isEqualTo(version);
            });
        });
    }

    @Test
    void aSecretIsGivenByReferenceAndReachesTheProvider() throws Exception {
        Path secret = Files.writeString(dir.resolve("passphrase"), "correct horse battery staple");
        String[] encryption = {"reliablestore.options.enableEncryption=true", "reliablestore.options.keyManagementService=Passphrase",
                "reliablestore.options.passphrase=file:" + secret};
        runner().withPropertyValues(encryption).run(context ->
                context.getBean(StoreFactory.class).store(Customer.class).save("c1", new Customer("Acme", 1)));
        // the stored value is encrypted with that passphrase: another one does not even start the application, the same one reads it
        Files.writeString(secret, "another passphrase");
        runner().withPropertyValues(encryption).run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause().isInstanceOf(dev.reliablestore.cluster.crypto.KeyMismatchException.class)
                    .hasMessageContaining("none of the keys given");
        });
        Files.writeString(secret, "correct horse battery staple");
        runner().withPropertyValues(encryption).run(context ->
                assertThat(context.getBean(StoreFactory.class).store(Customer.class).get("c1")).isPresent());
    }

    @Test
    void anUnknownOptionFailsTheContextWithTheProvidersMessage() {
        Map<String, String> options = Map.of("clusterName", "embedded:" + dir.resolve("registry"), "resourceGroupName", "RG",
                "registryKeyPath", "Software/App", "healthCheckIntervall", "1s");
        String expected = catchThrowableOfType(ConfigurationException.class,
                () -> Persistence.openFactory("cluster-registry", options)).getMessage();
        assertThat(expected).contains("unknown option \"healthCheckIntervall\"");
        runner().withPropertyValues("reliablestore.options.healthCheckIntervall=1s").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause().isInstanceOf(ConfigurationException.class).hasMessage(expected);
        });
    }

    /** Environment variables as Spring reads them: their map keys arrive lower-cased. */
    private static void environment(org.springframework.context.ConfigurableApplicationContext context, Map<String, Object> variables) {
        context.getEnvironment().getPropertySources().addFirst(new SystemEnvironmentPropertySource(
                StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, variables));
    }

    @Test
    void environmentVariablesSetOptionsWhoseCaseTheyLost() {
        new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(ReliableStoreAutoConfiguration.class))
                .withInitializer(context -> environment(context, Map.of(
                        "RELIABLESTORE_OPTIONS_CLUSTERNAME", "embedded:" + dir.resolve("registry"),
                        "RELIABLESTORE_OPTIONS_RESOURCEGROUPNAME", "RG",
                        "RELIABLESTORE_OPTIONS_REGISTRYKEYPATH", "Software/App",
                        "RELIABLESTORE_OPTIONS_MAXVALUESIZEKB", "1",
                        "RELIABLESTORE_OPTIONS_ENABLECOMPRESSION", "false",
                        "RELIABLESTORE_OPTIONS_ENABLELOCALCACHE", "true",
                        "RELIABLESTORE_OPTIONS_CACHETTL", "1m",
                        // a backend option: resolved against the embedded registry's table
                        "RELIABLESTORE_OPTIONS_REGISTRY_NODENAME", "env-node")))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(ReliableStoreProperties.class).getOptions()).containsKeys("cachettl", "registry.nodename");
                    EntityStore<Customer> customers = context.getBean(StoreFactory.class).store(Customer.class);
                    customers.save("c1", new Customer("Acme", 1));
                    // maxValueSizeKB=1 and enableCompression=false reached the provider
                    assertThatThrownBy(() -> customers.save("c2", new Customer("x".repeat(4096), 1)))
                            .isInstanceOf(EntityTooLargeException.class);
                });
    }

    @Test
    void aLowerCasedTypeSpecificOptionIsRefusedRatherThanGuessed() {
        new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(ReliableStoreAutoConfiguration.class))
                .withPropertyValues(properties(dir))
                .withInitializer(context -> environment(context, Map.of("RELIABLESTORE_OPTIONS_ENABLELOCALCACHE", "true",
                        "RELIABLESTORE_OPTIONS_CACHEDREADS_CUSTOMER", "Copy")))
                .run(context -> assertThat(context.getStartupFailure()).rootCause().isInstanceOf(ConfigurationException.class)
                        .hasMessageContaining("cachedreads.customer").hasMessageContaining("case-sensitive"));
    }

    /**
     * Site names are case-sensitive and a key bound from an environment variable has lost its case: a process given
     * RELIABLESTORE_OPTIONS_SITES_PARIS would write to site "paris", whose values a process configured with sites.Paris
     * refuses as sealed for another site. Refused, like cachedReads.<Type>, naming the variables.
     */
    @Test
    void siteKeysFromEnvironmentVariablesAreRefusedForTheirLostCase() {
        new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(ReliableStoreAutoConfiguration.class))
                .withPropertyValues("reliablestore.options.resourceGroupName=RG", "reliablestore.options.registryKeyPath=Software/App")
                .withInitializer(context -> environment(context, Map.of(
                        "RELIABLESTORE_OPTIONS_SITES_PARIS", "embedded:" + dir.resolve("paris"),
                        "RELIABLESTORE_OPTIONS_SITES_ROME", "embedded:" + dir.resolve("rome"),
                        "RELIABLESTORE_OPTIONS_LOCALSITE", "paris")))
                .run(context -> assertThat(context.getStartupFailure()).rootCause().isInstanceOf(ConfigurationException.class)
                        .hasMessageContaining("\"sites.paris\"").hasMessageContaining("\"sites.rome\"")
                        .hasMessageContaining("RELIABLESTORE_OPTIONS_SITES_PARIS").hasMessageContaining("case-sensitive")
                        .hasMessageContaining("SPRING_APPLICATION_JSON"));
    }

    /** Sites given with their case; the local site's name from an environment variable: a value keeps its case. */
    @Test
    void aLocalSiteFromAnEnvironmentVariableNamesASiteGivenWithItsCase() {
        new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(ReliableStoreAutoConfiguration.class))
                .withPropertyValues("reliablestore.options.resourceGroupName=RG", "reliablestore.options.registryKeyPath=Software/App",
                        "reliablestore.options.sites.Paris=embedded:" + dir.resolve("paris"),
                        "reliablestore.options.sites.Rome=embedded:" + dir.resolve("rome"))
                .withInitializer(context -> environment(context, Map.of("RELIABLESTORE_OPTIONS_LOCALSITE", "Paris")))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    context.getBean(StoreFactory.class).store(Customer.class).save("c1", new Customer("Acme", 1));
                });
    }

    /**
     * A lower-cased option name of another site's registry is matched against that site's backend (the URI in
     * sites.<site>), as registry.<option> is: requireTls reaches the ZooKeeper backend, which refuses a plaintext URI
     * (no connection is tried), where "requiretls" would be an unknown option.
     */
    @Test
    @org.junit.jupiter.api.extension.ExtendWith(org.springframework.boot.test.system.OutputCaptureExtension.class)
    void aLowerCasedOptionNameOfAnotherSitesRegistryIsMatchedAgainstThatSitesBackend(
            org.springframework.boot.test.system.CapturedOutput output) {
        new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(ReliableStoreAutoConfiguration.class))
                .withPropertyValues("reliablestore.options.resourceGroupName=RG", "reliablestore.options.registryKeyPath=Software/App",
                        "reliablestore.options.sites.Paris=embedded:" + dir.resolve("paris"),
                        "reliablestore.options.sites.Rome=zookeeper://127.0.0.1:1/rome", "reliablestore.options.localSite=Paris",
                        "reliablestore.options.sites.Rome.registry.requiretls=true")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    context.getBean(StoreFactory.class).store(Customer.class).save("c1", new Customer("Acme", 1));
                    // the shipper opens Rome's registry in the background: wait for its first attempt
                    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                            .until(() -> output.toString().contains("requireTls=true") || output.toString().contains("\"requiretls\""));
                    assertThat(output).contains("requireTls=true refuses to open").doesNotContain("\"requiretls\"");
                });
    }

    /** The names are matched against the right backend's table: sites.<site>'s, and for registry.* the local site's. */
    @Test
    void optionNamesOfSitesRegistriesAreMatchedAgainstTheirBackends() {
        Map<String, String> options = new java.util.LinkedHashMap<>();
        options.put("sites.Paris", "zookeeper://127.0.0.1:1/paris");
        options.put("sites.Rome", "embedded:" + dir.resolve("rome"));
        options.put("sites.Oslo", "zookeeper://127.0.0.1:1/oslo");
        options.put("localsite", "Paris");
        options.put("registry.sessiontimeout", "5s");
        options.put("sites.Rome.registry.groupcommit", "false");
        options.put("sites.Oslo.registry.sessiontimeout", "5s");
        assertThat(OptionKeys.resolve("cluster-registry", options)).containsOnlyKeys("sites.Paris", "sites.Rome", "sites.Oslo", "localSite",
                "registry.sessionTimeout", "sites.Rome.registry.groupCommit", "sites.Oslo.registry.sessionTimeout");
        // the same name twice, in two cases, is refused as for registry.*
        options.put("sites.Oslo.registry.sessionTimeout", "6s");
        assertThatThrownBy(() -> OptionKeys.resolve("cluster-registry", options)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("sites.Oslo.registry.sessionTimeout is set twice");
    }

    /** Whether two cache hits of the type's store give one instance (cachedReads Share) rather than copies. */
    private static boolean hitsShareOneInstance(StoreFactory factory, String type) {
        EntityStore<Customer> store = factory.store(type, Customer.class);
        store.save("c1", new Customer("Acme", 1));
        store.get("c1");
        return store.get("c1").orElseThrow().value() == store.get("c1").orElseThrow().value();
    }

    /** Type names with characters Spring Boot drops from a map key unless it is bracketed reach the provider whole in brackets. */
    @Test
    void aBracketedTypeSpecificOptionReachesTheProviderWhole() {
        runner().withPropertyValues("reliablestore.options.enableLocalCache=true", "reliablestore.options.cachedReads=Share",
                "reliablestore.options[cachedReads.Käse]=Copy", "reliablestore.options.cachedReads[Line$Item]=Copy").run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(ReliableStoreProperties.class).getOptions())
                            .containsEntry("cachedReads.Käse", "Copy").containsEntry("cachedReads.Line$Item", "Copy");
                    StoreFactory factory = context.getBean(StoreFactory.class);
                    assertThat(hitsShareOneInstance(factory, "Brot")).as("cachedReads=Share for the other types").isTrue();
                    assertThat(hitsShareOneInstance(factory, "Käse")).isFalse();
                    assertThat(hitsShareOneInstance(factory, "Line$Item")).isFalse();
                });
    }

    /** Unbracketed, Spring Boot binds such a key with characters dropped: an option for a type nobody has, hence the warning. */
    @Test
    @org.junit.jupiter.api.extension.ExtendWith(org.springframework.boot.test.system.OutputCaptureExtension.class)
    void anUnbracketedKeySpringBootDropsCharactersFromIsWarnedOf(org.springframework.boot.test.system.CapturedOutput output) {
        runner().withPropertyValues("reliablestore.options.enableLocalCache=true", "reliablestore.options.cachedReads.Käse=Copy",
                "reliablestore.options[cachedReads.Brot]=Copy", "reliablestore.options.cachedReads[Line$Item]=Copy").run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(ReliableStoreProperties.class).getOptions()).containsEntry("cachedReads.Kse", "Copy")
                            .doesNotContainKey("cachedReads.Käse");
                    assertThat(output).contains("reliablestore.options.cachedReads.Käse").contains("\"cachedReads.Kse\"")
                            .contains("reliablestore.options[cachedReads.Käse]");
                    // the bracketed ones and the plain ones bind as written
                    assertThat(output).doesNotContain("\"cachedReads.Brot\"").doesNotContain("Line$Item")
                            .doesNotContain("\"clusterName\"").doesNotContain("\"registry.nodeName\"");
                });
    }

    @Test
    void anUnknownProviderIsRefusedByName() {
        runner().withPropertyValues("reliablestore.provider=cluster-registy").run(context ->
                assertThat(context.getStartupFailure()).rootCause().isInstanceOf(ConfigurationException.class)
                        .hasMessageContaining("no persistence provider named \"cluster-registy\""));
    }

    @Test
    void theFactoryClosesWithTheContext() {
        EntityStore<?>[] kept = new EntityStore<?>[1];
        runner().run(context -> {
            EntityStore<Customer> customers = context.getBean(StoreFactory.class).store(Customer.class);
            customers.save("c1", new Customer("Acme", 1));
            kept[0] = customers;
        });
        assertThatThrownBy(() -> kept[0].get("c1")).isInstanceOf(StoreClosedException.class);
        // the embedded registry locks its directory while open: opening it again proves it was released
        try (StoreFactory again = Persistence.openFactory("cluster-registry", Map.of("clusterName", "embedded:" + dir.resolve("registry"),
                "resourceGroupName", "RG", "registryKeyPath", "Software/App"))) {
            assertThat(again.store(Customer.class).get("c1")).isPresent();
        }
    }

    @Test
    void anApplicationsOwnStoreFactoryReplacesTheAutoConfiguredOne() {
        // properties that could not open a factory: the auto-configured bean must not be created at all
        runner().withPropertyValues("reliablestore.provider=nonexistent").withUserConfiguration(OwnFactory.class).run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(StoreFactory.class);
            assertThat(context).getBean(StoreFactory.class).isSameAs(context.getBean("ownFactory"));
            context.getBean(StoreFactory.class).store(Customer.class).save("c1", new Customer("Own", 3));
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnFactory {
        @Bean
        StoreFactory ownFactory(org.springframework.core.env.Environment environment) {
            String registry = environment.getRequiredProperty("reliablestore.options.clusterName");
            return ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder().clusterName(registry)
                    .resourceGroupName("RG").registryKeyPath("Software/Own").build());
        }
    }
}
