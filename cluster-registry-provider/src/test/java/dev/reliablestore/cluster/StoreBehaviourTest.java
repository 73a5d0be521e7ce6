package dev.reliablestore.cluster;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.EntityTooLargeException;
import dev.reliablestore.api.InvalidIdException;
import dev.reliablestore.api.StoreEvent;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StoreBehaviourTest {

    /**
     * Checks at once, then every 10 ms: what these tests wait for mostly holds already or within milliseconds of it,
     * and Awaitility's default first delay and interval of 100 ms made every wait last at least that long.
     */
    private static ConditionFactory await() {
        return Awaitility.await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10));
    }

    @TempDir
    Path dir;

    @Test
    void theProviderIsFoundByNameAndLaysOutTheSeedTree() {
        Map<String, String> options = Map.of("clusterName", EmbeddedFixture.uri(dir), "resourceGroupName", EmbeddedFixture.GROUP,
                "registryKeyPath", "Software\\ReliableStore\\Data");
        try (EntityStore<Customer> s = Persistence.open("cluster-registry", options, Customer.class)) {
            s.save("CUST-001", Customer.of("Acme Corp", 1));
        }
        try (ClusterRegistry r = EmbeddedFixture.openRegistry(dir)) {
            RegistryPath root = RegistryPath.parse("RG/Software/ReliableStore/Data");
            assertThat(r.values(root.child("Configuration"))).containsKeys("Version", "Schema", "KeySalt");
            assertThat(r.getValue(root.child("Configuration"), "Version").orElseThrow().value().asDword()).isEqualTo(1);
            assertThat(r.values(root.resolve(RegistryPath.parse("Entities/Customer")))).containsOnlyKeys("CUST-001", "_metadata");
            assertThat(r.getValue(root.resolve(RegistryPath.parse("Entities/Customer/_versions")), "CUST-001").orElseThrow()
                    .value().asQword()).isEqualTo(1);
        }
    }

    /** saveAsync of a known version goes the pipelined way, which the metrics did not see. */
    @Test
    void pipelinedSavesCountAsWrites() throws Exception {
        try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).build())) {
            EntityStore<Customer> s = f.store(Customer.class);
            s.save("a", Customer.of("a", 1));
            assertThat(s.saveAsync("a", Customer.of("a", 2), 1).get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(2);
            assertThat(s.saveAsync("a", Customer.of("a", 3)).get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(3);
            assertThat(s.performanceMetrics().writes()).isEqualTo(3);
        }
    }

    @Test
    void aNewerLayoutIsRefusedClearly() {
        try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).build())) {
            f.store(Customer.class).save("a", Customer.of("a", 1));
        }
        try (ClusterRegistry r = EmbeddedFixture.openRegistry(dir)) {
            r.commit(WriteBatch.builder().setValue(RegistryPath.parse("RG/Software/ReliableStore/Data/Configuration"), "Version",
                    RegistryValue.dword(2)).build());
        }
        assertThatThrownBy(() -> ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).build()))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("layout 2").hasMessageContaining("layout 1");
    }

    @Test
    void clusterSettingsAreCheckedAgainstTheRegistryAtOpen() {
        assertThatThrownBy(() -> ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).minimumNodes(2).build()))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("minimumNodes = 2").hasMessageContaining("1 node");
        assertThatThrownBy(() -> ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).nodeAffinity(List.of("NODE9")).build()))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("NODE9");
        assertThatThrownBy(() -> ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).registryOption("bogus", "1").build()))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("bogus");
        // the seed's RequireKerberos arrives as requireKerberos, which the embedded registry does not have: refused, whatever its value
        assertThatThrownBy(() -> ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).registryOption("requireKerberos", "false").build()))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("requireKerberos");
        String node;
        try (ClusterRegistry r = EmbeddedFixture.openRegistry(dir)) {
            node = r.status().localNode();
        }
        try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).nodeAffinity(List.of(node)).build())) {
            assertThat(f.store(Customer.class).save("a", Customer.of("a", 1))).isEqualTo(1);
        }
    }

    /** An entity with a name and a price. */
    public record Priced(String name, java.math.BigDecimal price) {
    }

    @Test
    void theMetadataIdIsReservedAndLimitsAreEnforced() {
        try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).maxValueSizeKB(1).enableCompression(false).build())) {
            EntityStore<Customer> s = f.store(Customer.class);
            assertThatThrownBy(() -> s.save("_metadata", Customer.of("x", 1))).isInstanceOf(InvalidIdException.class)
                    .hasMessageContaining("reserved");
            assertThatThrownBy(() -> s.get("_metadata")).isInstanceOf(InvalidIdException.class);
            assertThatThrownBy(() -> s.save("big", Customer.of("x".repeat(2000), 1))).isInstanceOf(EntityTooLargeException.class)
                    .hasMessageContaining("1024");
            Map<String, Customer> tooMany = IntStream.range(0, 2501).boxed()
                    .collect(Collectors.toMap(i -> "c" + i, i -> Customer.of("n", i)));
            assertThatThrownBy(() -> s.saveBatch(tooMany)).isInstanceOf(EntityTooLargeException.class)
                    .hasMessageContaining("10004 registry commands").hasMessageContaining("2500 entities");
            // a batch large enough to be encoded on several threads names the first entity too large, as one thread would
            Map<String, Customer> twoTooLarge = new LinkedHashMap<>();
            for (int i = 0; i < 200; i++) {
                twoTooLarge.put("c" + i, Customer.of(i == 150 || i == 61 ? "x".repeat(2000) : "n", i));
            }
            for (int round = 0; round < 20; round++) {
                assertThatThrownBy(() -> s.saveBatch(twoTooLarge)).isInstanceOf(EntityTooLargeException.class)
                        .hasMessageContaining("c61").hasMessageNotContaining("c150");
            }
            assertThat(s.count()).isZero();
            // one too large, then one the codec refuses (a number longer than reads take): the first in order, as one by one
            Map<String, Priced> tooLargeThenRefused = new LinkedHashMap<>();
            tooLargeThenRefused.put("p1", new Priced("x".repeat(2000), java.math.BigDecimal.ONE));
            tooLargeThenRefused.put("p2", new Priced("n", new java.math.BigDecimal("1".repeat(1001))));
            EntityStore<Priced> priced = f.store(Priced.class);
            assertThatThrownBy(() -> priced.saveBatch(tooLargeThenRefused)).isInstanceOf(EntityTooLargeException.class)
                    .hasMessageContaining("p1");
            assertThat(priced.count()).isZero();
        }
        try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).maxValueSizeKB(1024).enableCompression(false).build())) {
            EntityStore<Customer> s = f.store(Customer.class);
            Map<String, Customer> tooBig = IntStream.range(0, 20).boxed()
                    .collect(Collectors.toMap(i -> "c" + i, i -> Customer.of("y".repeat(900_000), i)));
            assertThatThrownBy(() -> s.saveBatch(tooBig)).isInstanceOf(EntityTooLargeException.class)
                    .hasMessageContaining("largest atomic batch is 16777216 bytes");
            assertThat(s.count()).isZero();
        }
    }

    @Test
    void lastWriteWinsOverwritesAndReportsTheResolvedConflict() {
        try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(dir)
                .conflictResolution(ConflictResolution.LAST_WRITE_WINS).build())) {
            @SuppressWarnings("unchecked") // unwrap knows the class, not its type argument
            ClusterPersistenceStore<Customer> s = f.store(Customer.class).unwrap(ClusterPersistenceStore.class);
            List<StoreEvent> events = new CopyOnWriteArrayList<>();
            s.addListener(events::add);
            s.save("a", Customer.of("first", 1));
            s.save("a", Customer.of("second", 2), 1);
            assertThat(s.save("a", Customer.of("stale writer", 3), 1)).isEqualTo(3);
            assertThat(s.get("a").orElseThrow().value().name()).isEqualTo("stale writer");
            await().atMost(Duration.ofSeconds(5)).until(() -> !events.isEmpty());
            assertThat(events).singleElement().isEqualTo(((StoreEvent.ConflictResolved) events.get(0)))
                    .satisfies(e -> {
                        StoreEvent.ConflictResolved c = (StoreEvent.ConflictResolved) e;
                        assertThat(c.strategy()).isEqualTo("LastWriteWins");
                        assertThat(c.storedVersion()).isEqualTo(2);
                        assertThat(c.resultVersion()).isEqualTo(3);
                        assertThat(c.id()).isEqualTo("a");
                    });
            assertThat(s.performanceMetrics().conflicts()).isEqualTo(1);
            // deletes stay strict
            assertThatThrownBy(() -> s.delete("a", 1)).isInstanceOf(ConcurrencyConflictException.class);
        }
    }

    @Test
    void mergeCombinesStoredAndAttemptedValues() {
        ConflictResolver<Customer> sumBalances = (id, stored, attempted, expected) ->
                new Customer(attempted.name(), attempted.tier(), attempted.notes(), attempted.since(), stored.value().balance() + attempted.balance());
        try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(dir)
                .conflictResolution(ConflictResolution.MERGE).conflictResolver(Customer.class, sumBalances).build())) {
            @SuppressWarnings("unchecked") // unwrap knows the class, not its type argument
            ClusterPersistenceStore<Customer> s = f.store(Customer.class).unwrap(ClusterPersistenceStore.class);
            List<StoreEvent> events = new CopyOnWriteArrayList<>();
            s.addListener(events::add);
            s.save("a", Customer.of("base", 10));
            s.save("a", Customer.of("other", 5), 1);
            assertThat(s.save("a", Customer.of("mine", 7), 1)).isEqualTo(3);
            assertThat(s.get("a").orElseThrow().value().balance()).isEqualTo(12);
            await().atMost(Duration.ofSeconds(5)).until(() -> events.size() == 1);
            assertThat(((StoreEvent.ConflictResolved) events.get(0)).strategy()).isEqualTo("Merge");
            assertThatThrownBy(() -> s.save("missing", Customer.of("x", 1), 4)).isInstanceOf(ConcurrencyConflictException.class);
            assertThatThrownBy(() -> f.store(String.class)).isInstanceOf(ConfigurationException.class).hasMessageContaining("java.lang.String");
        }
    }

    @Test
    @SuppressWarnings("try") // the second factory only has to be open
    void healthChecksReportTheHostsReasonAsEventAndRegistryFault() {
        AtomicReference<String> problem = new AtomicReference<>();
        AtomicReference<Throwable> hookFails = new AtomicReference<>();
        ClusterHooks hooks = new ClusterHooks() {
            @Override
            public Optional<String> nodeName() {
                return Optional.of("sf-node-7");
            }

            @Override
            public Optional<String> unhealthyReason() {
                Throwable e = hookFails.getAndSet(null);
                if (e != null) {
                    EventHubTest.sneakyThrow(e);
                }
                return Optional.ofNullable(problem.get());
            }
        };
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir);
             StoreFactory f = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).hooks(hooks)
                     .healthCheckInterval(Duration.ofMillis(50)).build(), registry)) {
            @SuppressWarnings("unchecked") // unwrap knows the class, not its type argument
            ClusterPersistenceStore<Customer> s = f.store(Customer.class).unwrap(ClusterPersistenceStore.class);
            List<StoreEvent> events = new CopyOnWriteArrayList<>();
            s.addListener(events::add);
            problem.set("code package unhealthy");
            await().atMost(Duration.ofSeconds(10)).until(() -> events.stream().anyMatch(e -> e instanceof StoreEvent.HealthCheckFailed));
            StoreEvent.HealthCheckFailed failed = (StoreEvent.HealthCheckFailed) events.stream()
                    .filter(e -> e instanceof StoreEvent.HealthCheckFailed).findFirst().orElseThrow();
            assertThat(failed.reason()).contains("sf-node-7").contains("code package unhealthy");
            // a listener added later (a slow application start) learns the failure at once: it is published only when it changes
            List<StoreEvent> late = new CopyOnWriteArrayList<>();
            ClusterPersistenceStore<?> other = f.store("Other", Customer.class).unwrap(ClusterPersistenceStore.class);
            other.addListener(late::add);
            await().atMost(Duration.ofSeconds(10)).until(() -> late.stream().anyMatch(e -> e instanceof StoreEvent.HealthCheckFailed));
            assertThat(late).filteredOn(e -> e instanceof StoreEvent.HealthCheckFailed).first().isSameAs(failed);
            assertThat(registry.healthFaults()).anySatisfy(h -> {
                assertThat(h.id()).isEqualTo("reliablestore-sf-node-7");
                assertThat(h.description()).isEqualTo("code package unhealthy");
            });
            problem.set(null);
            await().atMost(Duration.ofSeconds(10)).until(() -> events.stream().anyMatch(e -> e instanceof StoreEvent.HealthRestored));
            await().atMost(Duration.ofSeconds(10)).until(() -> registry.healthFaults().stream()
                    .noneMatch(h -> h.id().equals("reliablestore-sf-node-7")));
            assertThat(events.stream().filter(e -> e instanceof StoreEvent.HealthCheckFailed).count()).isEqualTo(1);
            // a hook that throws an Error (a class missing during a redeploy) is a reason too, and the checks go on
            hookFails.set(new AssertionError("host check bug (injected)"));
            await().atMost(Duration.ofSeconds(10)).until(() -> events.stream().filter(e -> e instanceof StoreEvent.HealthCheckFailed).count() == 2);
            assertThat(events).filteredOn(e -> e instanceof StoreEvent.HealthCheckFailed).last()
                    .extracting(e -> ((StoreEvent.HealthCheckFailed) e).reason()).asString().contains("AssertionError");
            await().atMost(Duration.ofSeconds(10)).until(() -> events.stream().filter(e -> e instanceof StoreEvent.HealthRestored).count() == 2);
            hookFails.set(new java.io.IOException("checked, thrown undeclared as Kotlin may (injected)"));
            await().atMost(Duration.ofSeconds(10)).until(() -> events.stream().filter(e -> e instanceof StoreEvent.HealthRestored).count() == 3);

            // a fault an earlier process of this node left behind (it crashed): the next factory's first passing check removes it
            registry.addHealthFault(new dev.reliablestore.registry.HealthFault("reliablestore-sf-node-7", 1, 0, "left by a crashed process",
                    "ReliableStore", 0));
            try (StoreFactory next = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).hooks(hooks)
                    .healthCheckInterval(Duration.ofMillis(50)).build(), registry)) {
                await().atMost(Duration.ofSeconds(10)).until(() -> registry.healthFaults().stream()
                        .noneMatch(h -> h.id().equals("reliablestore-sf-node-7")));
            }
        }
    }

    /** A factory checks its health when it opens, not one interval later: until then nobody would have checked. */
    @Test
    void theFirstHealthCheckRunsWhenTheFactoryOpens() {
        ClusterHooks hooks = new ClusterHooks() {
            @Override
            public Optional<String> unhealthyReason() {
                return Optional.of("not ready yet");
            }
        };
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir);
             StoreFactory f = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).hooks(hooks)
                     .healthCheckInterval(Duration.ofHours(1)).build(), registry)) {
            @SuppressWarnings("unchecked") // unwrap knows the class, not its type argument
            ClusterPersistenceStore<Customer> s = f.store(Customer.class).unwrap(ClusterPersistenceStore.class);
            List<StoreEvent> events = new CopyOnWriteArrayList<>();
            s.addListener(events::add);
            await().atMost(Duration.ofSeconds(10)).until(() -> events.stream()
                    .anyMatch(e -> e instanceof StoreEvent.HealthCheckFailed h && h.reason().contains("not ready yet")));
        }
    }

    /**
     * A failure is told before the health fault is written: with the registry unreachable that write
     * waits up to failoverTimeout, and the event waited with it. Here the write is held until the event came.
     */
    @Test
    void aHealthFailureIsPublishedBeforeItsFaultIsWritten() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        ClusterHooks hooks = new ClusterHooks() {
            @Override
            public Optional<String> unhealthyReason() {
                return Optional.of("disk full");
            }
        };
        try (ClusterRegistry real = EmbeddedFixture.openRegistry(dir)) {
            ClusterRegistry held = (ClusterRegistry) java.lang.reflect.Proxy.newProxyInstance(ClusterRegistry.class.getClassLoader(),
                    new Class<?>[] {ClusterRegistry.class}, (proxy, method, args) -> {
                        if (method.getName().equals("addHealthFault")) {
                            release.await(30, java.util.concurrent.TimeUnit.SECONDS);
                        }
                        try {
                            return method.invoke(real, args);
                        } catch (java.lang.reflect.InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            List<StoreEvent> events = new CopyOnWriteArrayList<>();
            try (StoreFactory f = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).hooks(hooks)
                    .healthCheckInterval(Duration.ofHours(1)).build(), held)) {
                @SuppressWarnings("unchecked") // unwrap knows the class, not its type argument
                ClusterPersistenceStore<Customer> s = f.store(Customer.class).unwrap(ClusterPersistenceStore.class);
                s.addListener(events::add);
                await().atMost(Duration.ofSeconds(10)).until(() -> events.stream()
                        .anyMatch(e -> e instanceof StoreEvent.HealthCheckFailed h && h.reason().contains("disk full")));
                release.countDown();
                await().atMost(Duration.ofSeconds(10)).until(() -> real.healthFaults().stream().anyMatch(h -> h.description().equals("disk full")));
            } finally {
                release.countDown();
            }
            assertThat(events).filteredOn(e -> e instanceof StoreEvent.HealthCheckFailed).hasSize(1);
        }
    }

    /**
     * The node's health fault is the host hook's: a factory without one (a tool run on the node) neither
     * clears it when it opens or closes nor raises it, while the application's factory still reports the problem.
     */
    @Test
    void aFactoryWithoutHostHooksLeavesTheNodesHealthFaultAlone() {
        ClusterHooks hooks = new ClusterHooks() {
            @Override
            public Optional<String> unhealthyReason() {
                return Optional.of("code package unhealthy");
            }
        };
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir);
             StoreFactory application = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).hooks(hooks)
                     .healthCheckInterval(Duration.ofHours(1)).build(), registry)) {
            application.store(Customer.class);
            await().atMost(Duration.ofSeconds(10)).until(() -> registry.healthFaults().stream()
                    .anyMatch(h -> h.description().equals("code package unhealthy")));
            try (StoreFactory tool = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).healthCheckInterval(Duration.ofMillis(50)).build(),
                    registry)) {
                tool.store(Customer.class).count();
                await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(10)).until(() -> registry.healthFaults().stream()
                        .anyMatch(h -> h.description().equals("code package unhealthy")));
            }
            assertThat(registry.healthFaults()).as("after the tool's factory closed")
                    .anySatisfy(h -> assertThat(h.description()).isEqualTo("code package unhealthy"));
            // hooks that name the node (or the audit's principal) but run no health check are no host check either
            String node = registry.status().localNode();
            ClusterHooks namingOnly = new ClusterHooks() {
                @Override
                public Optional<String> nodeName() {
                    return Optional.of(node);
                }
            };
            try (StoreFactory named = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).hooks(namingOnly)
                    .healthCheckInterval(Duration.ofMillis(50)).build(), registry)) {
                named.store(Customer.class).count();
                await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(10)).until(() -> registry.healthFaults().stream()
                        .anyMatch(h -> h.description().equals("code package unhealthy")));
            }
            assertThat(registry.healthFaults()).as("after the naming factory closed")
                    .anySatisfy(h -> assertThat(h.description()).isEqualTo("code package unhealthy"));
        }
    }

    /** While the fault cannot be written, each check finds the same failure: it is published once, not once per check. */
    @Test
    void aFaultThatCannotBeWrittenDoesNotRepublishTheFailureOnEveryCheck() {
        ClusterHooks hooks = new ClusterHooks() {
            @Override
            public Optional<String> unhealthyReason() {
                return Optional.of("disk full");
            }
        };
        try (ClusterRegistry real = EmbeddedFixture.openRegistry(dir)) {
            ClusterRegistry failing = (ClusterRegistry) java.lang.reflect.Proxy.newProxyInstance(ClusterRegistry.class.getClassLoader(),
                    new Class<?>[] {ClusterRegistry.class}, (proxy, method, args) -> {
                        if (method.getName().equals("addHealthFault")) {
                            throw new dev.reliablestore.registry.RegistryUnavailableException("the registry cannot be reached", null);
                        }
                        try {
                            return method.invoke(real, args);
                        } catch (java.lang.reflect.InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            List<StoreEvent> events = new CopyOnWriteArrayList<>();
            java.util.concurrent.atomic.AtomicInteger checks = new java.util.concurrent.atomic.AtomicInteger();
            ClusterHooks counted = new ClusterHooks() {
                @Override
                public Optional<String> unhealthyReason() {
                    checks.incrementAndGet();
                    return hooks.unhealthyReason();
                }
            };
            try (StoreFactory f = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).hooks(counted)
                    .healthCheckInterval(Duration.ofMillis(50)).build(), failing)) {
                @SuppressWarnings("unchecked") // unwrap knows the class, not its type argument
                ClusterPersistenceStore<Customer> s = f.store(Customer.class).unwrap(ClusterPersistenceStore.class);
                s.addListener(events::add);
                await().atMost(Duration.ofSeconds(10)).until(() -> checks.get() >= 8);
            }
            assertThat(events).filteredOn(e -> e instanceof StoreEvent.HealthCheckFailed).hasSizeBetween(1, 2)
                    .last().satisfies(e -> assertThat(((StoreEvent.HealthCheckFailed) e).reason()).contains("disk full")
                            .contains("cannot update health fault"));
        }
    }

    @Test
    void aDictionaryIsTrainedStoredAndFoundByOtherFactories() {
        ClusterPersistenceConfiguration config = EmbeddedFixture.config(dir).replicationMode(ReplicationMode.ASYNCHRONOUS).build();
        RegistryPath dictionaries = RegistryPath.parse("RG/Software/ReliableStore/Data/Configuration/Dictionaries/Customer");
        RegistryPath customers = RegistryPath.parse("RG/Software/ReliableStore/Data/Entities/Customer");
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            try (StoreFactory f = ClusterStoreFactory.onRegistry(config, registry)) {
                EntityStore<Customer> s = f.store(Customer.class);
                for (int i = 0; i < DictionaryManager.SAMPLES_TO_TRAIN * 4 && !registry.keyExists(dictionaries); i++) {
                    s.save("c" + i, new Customer("Customer number " + i, i % 2 == 0 ? "GOLD" : "SILVER",
                            List.of("account opened at branch " + (i % 7)), java.time.Instant.ofEpochSecond(1_700_000_000L + i), i));
                }
                await().atMost(Duration.ofSeconds(20)).until(() -> registry.keyExists(dictionaries));
                assertThat(registry.values(dictionaries)).containsOnlyKeys("1");
                // the factory that trained it switches to it once it is stored: a save right after the key appears may
                // still go out without it
                await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                    s.save("after", new Customer("Customer after training", "GOLD", List.of("account opened at branch 3"),
                            java.time.Instant.ofEpochSecond(1_700_000_000L), 5));
                    byte[] stored = registry.getValue(customers, "after").orElseThrow().value().data();
                    assertThat(EnvelopeCodec.header(stored, "after").dictionaryId()).isEqualTo(1);
                });
            }
            try (StoreFactory other = ClusterStoreFactory.onRegistry(config, registry)) {
                assertThat(other.store(Customer.class).get("after").orElseThrow().value().name()).isEqualTo("Customer after training");
            }
        }
    }

    /**
     * clear() deletes what it listed; another writer creating entities all the while must not keep it
     * listing again forever (an entity created concurrently may survive it, as documented).
     */
    @Test
    void clearEndsWhileAnotherWriterKeepsCreatingEntities() throws Exception {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir);
             StoreFactory f = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), registry)) {
            EntityStore<Customer> customers = f.store(Customer.class);
            for (int i = 0; i < 200; i++) {
                customers.save("old-" + i, Customer.of("old-" + i, i));
            }
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicInteger created = new java.util.concurrent.atomic.AtomicInteger();
            Thread writer = new Thread(() -> {
                while (!stop.get()) {
                    int n = created.incrementAndGet();
                    customers.save("new-" + n, Customer.of("new-" + n, n));
                }
            });
            writer.start();
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> created.get() > 10);
                long removed = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(60), customers::clear,
                        "clear() kept listing again while the writer ran");
                assertThat(removed).isGreaterThanOrEqualTo(200);
            } finally {
                stop.set(true);
                writer.join();
            }
            assertThat(customers.getAll()).extracting(v -> v.id()).noneMatch(id -> id.startsWith("old-"));
        }
    }
}
