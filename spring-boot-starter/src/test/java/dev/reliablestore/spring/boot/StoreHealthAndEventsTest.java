package dev.reliablestore.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreEvent;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterHooks;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.cluster.ConflictResolution;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Health, events and meters from real contexts over an embedded registry the test holds, so that it
 * can close the registry under the factory or make the host's health check fail.
 */
class StoreHealthAndEventsTest {

    /** The host's verdict read by the factory's health check (ClusterHooks.unhealthyReason). */
    static final AtomicReference<String> PROBLEM = new AtomicReference<>();

    @TempDir
    Path dir;

    private ApplicationContextRunner runner(ClusterRegistry registry) {
        PROBLEM.set(null);
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(ReliableStoreAutoConfiguration.class))
                .withBean(ClusterRegistry.class, () -> registry)
                .withUserConfiguration(Application.class);
    }

    @Configuration(proxyBeanMethods = false)
    static class Application {
        final List<StoreEvent> events = new CopyOnWriteArrayList<>();

        @Bean(destroyMethod = "close")
        StoreFactory storeFactory(ClusterRegistry registry) {
            return open(registry);
        }

        /** Last write wins, so that a stale version makes a resolved conflict (a store's own event). */
        static StoreFactory open(ClusterRegistry registry) {
            ClusterHooks hooks = new ClusterHooks() {
                @Override
                public Optional<String> unhealthyReason() {
                    return Optional.ofNullable(PROBLEM.get());
                }
            };
            return ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder().clusterName(registry.uri())
                    .resourceGroupName("RG").registryKeyPath("Software/App").healthCheckInterval(Duration.ofMillis(50)).hooks(hooks)
                    .conflictResolution(ConflictResolution.LAST_WRITE_WINS).build(), registry);
        }

        @Bean
        EntityStore<Customer> customers(StoreFactory factory) {
            return factory.store(Customer.class);
        }

        @EventListener
        void on(StoreEvent event) {
            events.add(event);
        }
    }

    private static Health health(org.springframework.context.ApplicationContext context) {
        return context.getBean("reliableStoreHealthIndicator", HealthIndicator.class).health();
    }

    @Test
    void healthIsUpThenDownWhileTheHostsCheckFailsAndUpAgainWithEventsRepublished() {
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"))) {
            runner(registry).run(context -> {
                assertThat(health(context).getStatus()).isEqualTo(Status.UP);
                assertThat(health(context).getDetails()).containsEntry("provider", "cluster-registry").containsEntry("observedStores", 1)
                        .containsEntry("backend", registry.status().backend()).containsEntry("localNode", registry.status().localNode())
                        .containsEntry("primary", registry.status().primary().orElse("none"))
                        .containsEntry("nodes", java.util.Map.of(registry.status().localNode(), "UP"));

                PROBLEM.set("disk of node 1 is failing");
                await().atMost(Duration.ofSeconds(10)).until(() -> health(context).getStatus().equals(Status.DOWN));
                assertThat(health(context).getDetails().get("reason")).asString().contains("disk of node 1 is failing");
                List<StoreEvent> events = context.getBean(Application.class).events;
                assertThat(events).hasAtLeastOneElementOfType(StoreEvent.HealthCheckFailed.class);

                PROBLEM.set(null);
                await().atMost(Duration.ofSeconds(10)).until(() -> health(context).getStatus().equals(Status.UP));
                assertThat(events).hasAtLeastOneElementOfType(StoreEvent.HealthRestored.class);
                // one listener per store bean: each cluster-wide event is republished once
                assertThat(events).filteredOn(e -> e instanceof StoreEvent.HealthCheckFailed).hasSize(1);
            });
        }
    }

    @Test
    void healthIsDownWhenTheRegistryIsClosed() {
        ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"));
        runner(registry).run(context -> {
            context.getBean(StoreFactory.class).store(Customer.class).save("c1", new Customer("Acme", 1));
            assertThat(health(context).getStatus()).isEqualTo(Status.UP);
            registry.close();
            // DOWN at once (the status read fails), then with the health check's own reason once it ran
            assertThat(health(context).getStatus()).isEqualTo(Status.DOWN);
            assertThat(health(context).getDetails().get("reason")).asString().contains(dir.resolve("registry").toString()).contains("closed");
            await().atMost(Duration.ofSeconds(10)).until(() -> health(context).getDetails().containsKey("since"));
            assertThat(health(context).getStatus()).isEqualTo(Status.DOWN);
            assertThat(health(context).getDetails().get("reason")).asString().contains(registry.uri());
        });
    }

    @Test
    void withoutStoreBeansHealthIsUnknownNotUp() {
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"))) {
            new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(ReliableStoreAutoConfiguration.class))
                    .withBean(ClusterRegistry.class, () -> registry)
                    .withBean(StoreFactory.class, () -> ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder()
                            .clusterName(registry.uri()).resourceGroupName("RG").registryKeyPath("Software/App").build(), registry))
                    .run(context -> assertThat(health(context).getStatus()).isEqualTo(Status.UNKNOWN));
        }
    }

    /** Several factories, none primary: no indicator (it reports one factory) instead of a context that fails to start. */
    @Test
    void twoStoreFactoriesWithoutAPrimaryGetNoIndicatorAndTheContextStarts() {
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"))) {
            new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(ReliableStoreAutoConfiguration.class))
                    .withBean(ClusterRegistry.class, () -> registry)
                    .withBean("one", StoreFactory.class, () -> ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder()
                            .clusterName(registry.uri()).resourceGroupName("RG").registryKeyPath("Software/One").build(), registry))
                    .withBean("two", StoreFactory.class, () -> ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder()
                            .clusterName(registry.uri()).resourceGroupName("RG").registryKeyPath("Software/Two").build(), registry))
                    .run(context -> {
                        assertThat(context).hasNotFailed().doesNotHaveBean("reliableStoreHealthIndicator");
                        assertThat(context).getBeans(StoreFactory.class).hasSize(2);
                    });
        }
    }

    /**
     * Two factories, each on its own registry with its own host check (a failing one raises a health fault in its
     * registry, which the other must not see); A is @Primary, the one the indicator reports. Each store bean's method
     * takes its factory, but one takes B through an ObjectProvider inside a class injected with A.
     */
    @Configuration(proxyBeanMethods = false)
    @org.springframework.context.annotation.Import(TwoFactories.StoresOfA.class)
    static class TwoFactories {
        static final AtomicReference<String> PROBLEM_A = new AtomicReference<>();
        static final AtomicReference<String> PROBLEM_B = new AtomicReference<>();
        final List<StoreEvent> events = new CopyOnWriteArrayList<>();

        private static StoreFactory open(ClusterRegistry registry, AtomicReference<String> problem) {
            ClusterHooks hooks = new ClusterHooks() {
                @Override
                public Optional<String> unhealthyReason() {
                    return Optional.ofNullable(problem.get());
                }
            };
            return ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder().clusterName(registry.uri())
                    .resourceGroupName("RG").registryKeyPath("Software/App").healthCheckInterval(Duration.ofMillis(50)).hooks(hooks)
                    .build(), registry);
        }

        @Bean(destroyMethod = "close")
        @org.springframework.context.annotation.Primary
        StoreFactory factoryA(@Qualifier("registryA") ClusterRegistry registry) {
            return open(registry, PROBLEM_A);
        }

        @Bean(destroyMethod = "close")
        StoreFactory factoryB(@Qualifier("registryB") ClusterRegistry registry) {
            return open(registry, PROBLEM_B);
        }

        @Bean
        EntityStore<Customer> customersB(@Qualifier("factoryB") StoreFactory factory) {
            return factory.store(Customer.class);
        }

        @EventListener
        void on(StoreEvent event) {
            events.add(event);
        }

        @Configuration(proxyBeanMethods = false)
        static class StoresOfA {
            @Autowired
            StoreFactory factory;

            @Bean
            EntityStore<Customer> customersA(StoreFactory a) {
                return a.store(Customer.class);
            }

            /** B's store, in a class injected with A: Spring records no dependency on B, so it counts for no factory. */
            @Bean
            EntityStore<Customer> customersOfBLazily(@Qualifier("factoryB") org.springframework.beans.factory.ObjectProvider<StoreFactory> b) {
                return b.getObject().store(Customer.class);
            }
        }
    }

    /** The factory and its store bean in a parent context, the Boot application's context a child of it. */
    @Test
    void storeBeansOfAParentContextAreFollowed() {
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"));
             org.springframework.context.annotation.AnnotationConfigApplicationContext parent =
                     new org.springframework.context.annotation.AnnotationConfigApplicationContext()) {
            PROBLEM.set(null);
            parent.registerBean(ClusterRegistry.class, () -> registry);
            parent.register(Application.class);
            parent.refresh();
            new ApplicationContextRunner().withParent(parent).withConfiguration(AutoConfigurations.of(ReliableStoreAutoConfiguration.class))
                    .run(context -> {
                        assertThat(context).hasNotFailed();
                        assertThat(health(context).getStatus()).isEqualTo(Status.UP);
                        assertThat(health(context).getDetails()).containsEntry("observedStores", 1);
                        PROBLEM.set("disk of node 1 is failing");
                        await().atMost(Duration.ofSeconds(10)).until(() -> health(context).getStatus().equals(Status.DOWN));
                    });
        } finally {
            PROBLEM.set(null);
        }
    }

    /** A listener of store events, for a context that has no {@link Application}. */
    @Configuration(proxyBeanMethods = false)
    static class Listening {
        final List<StoreEvent> events = new CopyOnWriteArrayList<>();

        @EventListener
        void on(StoreEvent event) {
            events.add(event);
        }
    }

    /** A listener that fails on every event. */
    @Configuration(proxyBeanMethods = false)
    static class Throwing {
        @EventListener
        void on(StoreEvent event) {
            throw new IllegalStateException("a listener of the child failed on " + event);
        }
    }

    /** A store bean made from whichever factory the context has, a parent's say. */
    @Configuration(proxyBeanMethods = false)
    static class ChildStore {
        @Bean
        EntityStore<Customer> childCustomers(StoreFactory factory) {
            return factory.store(Customer.class);
        }
    }

    /** {@link Application}'s factory and a listener, without a store bean. */
    @Configuration(proxyBeanMethods = false)
    @org.springframework.context.annotation.Import(Listening.class)
    static class FactoryAlone {
        @Bean(destroyMethod = "close")
        StoreFactory storeFactory(ClusterRegistry registry) {
            return Application.open(registry);
        }
    }

    /** A refreshed parent context on the registry, with the starter or without it. */
    private static org.springframework.context.annotation.AnnotationConfigApplicationContext parent(ClusterRegistry registry, boolean starter,
            Class<?> configuration) {
        PROBLEM.set(null);
        org.springframework.context.annotation.AnnotationConfigApplicationContext parent =
                new org.springframework.context.annotation.AnnotationConfigApplicationContext();
        parent.registerBean(ClusterRegistry.class, () -> registry);
        parent.register(configuration);
        if (starter) {
            parent.register(ReliableStoreAutoConfiguration.class);
        }
        parent.refresh();
        return parent;
    }

    private static ApplicationContextRunner child(org.springframework.context.ApplicationContext parent, Class<?>... configurations) {
        return new ApplicationContextRunner().withParent(parent).withConfiguration(AutoConfigurations.of(ReliableStoreAutoConfiguration.class))
                .withUserConfiguration(configurations);
    }

    /**
     * Makes the factory's check fail, then pass again, and returns once every list has the HealthRestored: the
     * factory delivers its events one after the other on one thread, so every copy of the failure, and of any
     * event before it, has arrived by then.
     */
    private static void failThenRecover(List<List<StoreEvent>> lists) {
        try {
            PROBLEM.set("disk of node 1 is failing");
            await().atMost(Duration.ofSeconds(10)).until(() -> lists.stream().allMatch(l -> count(l, StoreEvent.HealthCheckFailed.class) > 0));
            PROBLEM.set(null);
            await().atMost(Duration.ofSeconds(10)).until(() -> lists.stream().allMatch(l -> count(l, StoreEvent.HealthRestored.class) > 0));
        } finally {
            PROBLEM.set(null);
        }
    }

    private static long count(List<StoreEvent> events, Class<? extends StoreEvent> type) {
        return events.stream().filter(type::isInstance).count();
    }

    private static void assertOnce(List<StoreEvent> events) {
        assertThat(count(events, StoreEvent.HealthCheckFailed.class)).isEqualTo(1);
        assertThat(count(events, StoreEvent.HealthRestored.class)).isEqualTo(1);
    }

    /** The starter in a parent and in its child: the child's listeners hear of the parent's stores too, and each context once. */
    @Test
    void withTheStarterInAParentAndAChildEachContextGetsEachEventOnce() {
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"));
             org.springframework.context.annotation.AnnotationConfigApplicationContext parent = parent(registry, true, Application.class)) {
            child(parent, Listening.class).run(context -> {
                assertThat(context).hasNotFailed();
                List<StoreEvent> inParent = parent.getBean(Application.class).events;
                List<StoreEvent> inChild = context.getBean(Listening.class).events;
                failThenRecover(List.of(inParent, inChild));
                assertOnce(inParent);
                assertOnce(inChild);
            });
        }
    }

    /** A child's own store bean of the parent's factory: its bridge hears the parent's events too, yet the parent gets each once. */
    @Test
    void aChildStoreOfTheParentsFactoryDoesNotDoubleTheParentsEvents() {
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"));
             org.springframework.context.annotation.AnnotationConfigApplicationContext parent = parent(registry, true, Application.class)) {
            child(parent, ChildStore.class, Listening.class).run(context -> {
                assertThat(context).hasNotFailed();
                // the parent's indicator (the child's, as the child has none of its own) follows the parent's store bean alone
                assertThat(health(parent).getDetails()).containsEntry("observedStores", 1);
                List<StoreEvent> inParent = parent.getBean(Application.class).events;
                List<StoreEvent> inChild = context.getBean(Listening.class).events;
                failThenRecover(List.of(inParent, inChild));
                assertOnce(inParent);
                assertOnce(inChild);
            });
        }
    }

    /**
     * The parent has the starter and the factory but no store bean: the child's store bean is the only one
     * told of the factory's events, and the parent hears of them through the child, as Spring forwards them.
     */
    @Test
    void aChildStoreOfAFactoryWithoutStoreBeansInTheParentReachesTheParentOnce() {
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"));
             org.springframework.context.annotation.AnnotationConfigApplicationContext parent = parent(registry, true, FactoryAlone.class)) {
            child(parent, ChildStore.class, Listening.class).run(context -> {
                assertThat(context).hasNotFailed();
                // the parent's indicator follows the parent's store beans, and it has none
                assertThat(health(parent).getStatus()).isEqualTo(Status.UNKNOWN);
                List<StoreEvent> inParent = parent.getBean(Listening.class).events;
                List<StoreEvent> inChild = context.getBean(Listening.class).events;
                failThenRecover(List.of(inParent, inChild));
                assertOnce(inParent);
                assertOnce(inChild);
            });
        }
    }

    /** A listener of the child that throws does not keep the event from the parent's listeners. */
    @Test
    void aChildsFailingListenerDoesNotKeepTheEventFromTheParent() {
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"));
             org.springframework.context.annotation.AnnotationConfigApplicationContext parent = parent(registry, true, FactoryAlone.class)) {
            child(parent, ChildStore.class, Throwing.class).run(context -> {
                assertThat(context).hasNotFailed();
                List<StoreEvent> inParent = parent.getBean(Listening.class).events;
                failThenRecover(List.of(inParent));
                assertOnce(inParent);
            });
        }
    }

    /** Two children with the starter under a parent without it: both follow the parent's store bean, and the parent gets each event once. */
    @Test
    void siblingsWithTheStarterGiveTheirParentEachEventOnce() {
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"));
             org.springframework.context.annotation.AnnotationConfigApplicationContext parent = parent(registry, false, Application.class)) {
            child(parent, Listening.class).run(one -> child(parent, Listening.class).run(two -> {
                assertThat(one).hasNotFailed();
                assertThat(two).hasNotFailed();
                List<StoreEvent> inParent = parent.getBean(Application.class).events;
                List<StoreEvent> inOne = one.getBean(Listening.class).events;
                List<StoreEvent> inTwo = two.getBean(Listening.class).events;
                failThenRecover(List.of(inParent, inOne, inTwo));
                assertOnce(inParent);
                assertOnce(inOne);
                assertOnce(inTwo);
            }));
        }
    }

    /** A store's own event (a resolved conflict) of a parent's store bean, with the starter in both: once in each context. */
    @Test
    void aStoresOwnEventReachesEachContextOnce() {
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"));
             org.springframework.context.annotation.AnnotationConfigApplicationContext parent = parent(registry, true, Application.class)) {
            child(parent, Listening.class).run(context -> {
                assertThat(context).hasNotFailed();
                @SuppressWarnings("unchecked") // the bean's type argument is erased at run time
                EntityStore<Customer> customers = parent.getBean("customers", EntityStore.class);
                customers.save("c1", new Customer("Acme", 1));
                customers.save("c1", new Customer("Acme", 2), 1);
                customers.save("c1", new Customer("Bolt", 3), 1); // stale: the last write wins, with a resolved conflict
                List<StoreEvent> inParent = parent.getBean(Application.class).events;
                List<StoreEvent> inChild = context.getBean(Listening.class).events;
                failThenRecover(List.of(inParent, inChild)); // the conflict was told before the failure
                assertThat(count(inParent, StoreEvent.ConflictResolved.class)).isEqualTo(1);
                assertThat(count(inChild, StoreEvent.ConflictResolved.class)).isEqualTo(1);
            });
        }
    }

    /** Several factories, and none of A's store beans shows it was made from A: UNKNOWN, but DOWN once A's registry fails. */
    @Test
    void anIndicatorWithoutStoresOfItsOwnIsDownWhenItsRegistryFails() {
        ClusterRegistry a = ClusterRegistries.open("embedded:" + dir.resolve("a"));
        try (ClusterRegistry b = ClusterRegistries.open("embedded:" + dir.resolve("b"))) {
            new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(ReliableStoreAutoConfiguration.class))
                    .withBean("registryA", ClusterRegistry.class, () -> a).withBean("registryB", ClusterRegistry.class, () -> b)
                    .withUserConfiguration(FactoriesWithoutStoresOfA.class).run(context -> {
                        assertThat(context).hasNotFailed();
                        assertThat(health(context).getStatus()).isEqualTo(Status.UNKNOWN);
                        a.close();
                        assertThat(health(context).getStatus()).isEqualTo(Status.DOWN);
                        assertThat(health(context).getDetails().get("reason")).asString().contains("cluster status cannot be read");
                    });
        } finally {
            a.close();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class FactoriesWithoutStoresOfA {
        @Bean(destroyMethod = "close")
        @org.springframework.context.annotation.Primary
        StoreFactory factoryA(@Qualifier("registryA") ClusterRegistry registry) {
            return TwoFactories.open(registry, TwoFactories.PROBLEM_A);
        }

        @Bean(destroyMethod = "close")
        StoreFactory factoryB(@Qualifier("registryB") ClusterRegistry registry) {
            return TwoFactories.open(registry, TwoFactories.PROBLEM_B);
        }

        @Bean
        EntityStore<Customer> customersB(@Qualifier("factoryB") StoreFactory factory) {
            return factory.store(Customer.class);
        }
    }

    /** A store bean whose method is given both factories: it could be either's, so it counts for neither. */
    @Configuration(proxyBeanMethods = false)
    static class EitherFactory {
        @Bean
        EntityStore<Customer> customersOfEither(StoreFactory a, @Qualifier("factoryB") StoreFactory b) {
            return b.store(Customer.class);
        }
    }

    private ApplicationContextRunner twoFactories(ClusterRegistry a, ClusterRegistry b) {
        TwoFactories.PROBLEM_A.set(null);
        TwoFactories.PROBLEM_B.set(null);
        return new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(ReliableStoreAutoConfiguration.class))
                .withBean("registryA", ClusterRegistry.class, () -> a).withBean("registryB", ClusterRegistry.class, () -> b)
                .withUserConfiguration(TwoFactories.class);
    }

    private static boolean failedWith(List<StoreEvent> events, String reason) {
        return events.stream().anyMatch(e -> e instanceof StoreEvent.HealthCheckFailed f && f.reason().contains(reason));
    }

    /** The indicator reports the @Primary factory: another factory's failed check is not its health. */
    @Test
    void anotherFactoryFailingLeavesTheIndicatorUp() {
        try (ClusterRegistry a = ClusterRegistries.open("embedded:" + dir.resolve("a"));
             ClusterRegistry b = ClusterRegistries.open("embedded:" + dir.resolve("b"))) {
            twoFactories(a, b).withUserConfiguration(EitherFactory.class).run(context -> {
                assertThat(context).hasNotFailed();
                assertThat(health(context).getStatus()).isEqualTo(Status.UP);
                List<StoreEvent> events = context.getBean(TwoFactories.class).events;

                TwoFactories.PROBLEM_B.set("disk of B is failing");
                // the bridge records a check's verdict before republishing it: once the listener has it, the indicator has seen it
                await().atMost(Duration.ofSeconds(10)).until(() -> failedWith(events, "disk of B is failing"));
                assertThat(health(context).getStatus()).isEqualTo(Status.UP);

                TwoFactories.PROBLEM_A.set("disk of A is failing");
                await().atMost(Duration.ofSeconds(10)).until(() -> health(context).getStatus().equals(Status.DOWN));
                assertThat(health(context).getDetails().get("reason")).asString().contains("disk of A is failing")
                        .doesNotContain("disk of B");
                // A's store bean alone: not B's, nor the one of either
                assertThat(health(context).getDetails()).containsEntry("observedStores", 1);
            });
        }
    }

    /** The @Primary factory's failure stays in force while another factory fails and recovers. */
    @Test
    void anotherFactoryRecoveringLeavesTheIndicatorDown() {
        try (ClusterRegistry a = ClusterRegistries.open("embedded:" + dir.resolve("a"));
             ClusterRegistry b = ClusterRegistries.open("embedded:" + dir.resolve("b"))) {
            twoFactories(a, b).run(context -> {
                assertThat(context).hasNotFailed();
                List<StoreEvent> events = context.getBean(TwoFactories.class).events;
                TwoFactories.PROBLEM_A.set("disk of A is failing");
                await().atMost(Duration.ofSeconds(10)).until(() -> health(context).getStatus().equals(Status.DOWN));

                TwoFactories.PROBLEM_B.set("disk of B is failing");
                await().atMost(Duration.ofSeconds(10)).until(() -> failedWith(events, "disk of B is failing"));
                TwoFactories.PROBLEM_B.set(null);
                // A still fails: the only recovery there can be is B's
                await().atMost(Duration.ofSeconds(10)).until(() -> events.stream().anyMatch(e -> e instanceof StoreEvent.HealthRestored));
                assertThat(health(context).getStatus()).isEqualTo(Status.DOWN);
                assertThat(health(context).getDetails().get("reason")).asString().contains("disk of A is failing");

                TwoFactories.PROBLEM_A.set(null);
                await().atMost(Duration.ofSeconds(10)).until(() -> health(context).getStatus().equals(Status.UP));
            });
        }
    }

    /** Two store beans of one type name (from two factories): each gets its own meters, told apart by the bean's name. */
    @Test
    void storeBeansOfOneTypeNameInTwoFactoriesGetMetersOfTheirOwn() {
        try (ClusterRegistry a = ClusterRegistries.open("embedded:" + dir.resolve("a"));
             ClusterRegistry b = ClusterRegistries.open("embedded:" + dir.resolve("b"))) {
            twoFactories(a, b).withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class))
                    .run(context -> {
                        assertThat(context).hasNotFailed();
                        @SuppressWarnings("unchecked") // the bean's type argument is erased at run time
                        EntityStore<Customer> customersB = context.getBean("customersB", EntityStore.class);
                        customersB.save("c1", new Customer("Acme", 1));
                        customersB.save("c2", new Customer("Bolt", 2));
                        MeterRegistry meters = context.getBean(MeterRegistry.class);
                        // one per store bean (three: customersOfBLazily is B's store too)
                        assertThat(meters.find("reliablestore.store.writes").tag("type", "Customer").functionCounters()).hasSize(3);
                        assertThat(meters.get("reliablestore.store.writes").tags("type", "Customer", "bean", "customersB")
                                .functionCounter().count()).isEqualTo(2);
                        assertThat(meters.get("reliablestore.store.writes").tags("type", "Customer", "bean", "customersA")
                                .functionCounter().count()).isZero();
                    });
        }
    }

    @Test
    void storeBeansGetTheProvidersMeters() {
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"))) {
            runner(registry).withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class))
                    .run(context -> {
                        @SuppressWarnings("unchecked") // the bean's type argument is erased at run time
                        EntityStore<Customer> customers = context.getBean(EntityStore.class);
                        customers.save("c1", new Customer("Acme", 1));
                        customers.save("c2", new Customer("Bolt", 2));
                        MeterRegistry meters = context.getBean(MeterRegistry.class);
                        assertThat(meters.get("reliablestore.store.writes").tags("type", "Customer", "bean", "customers").functionCounter()
                                .count()).isEqualTo(2);
                    });
        }
    }

    @Test
    void aFactoryWithSitesGetsTheSiteMeters() {
        sitesRunner(false).run(StoreHealthAndEventsTest::assertSiteMeters);
    }

    /** Under JTA the context's factory is the wrapper that enlists stores: the meters are the provider's beneath it. */
    @Test
    void aFactoryWithSitesGetsTheSiteMetersUnderJtaToo() {
        sitesRunner(true).run(StoreHealthAndEventsTest::assertSiteMeters);
    }

    private ApplicationContextRunner sitesRunner(boolean jta) {
        ApplicationContextRunner runner = new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(
                        ReliableStoreAutoConfiguration.class, MetricsAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class));
        if (jta) {
            runner = runner.withConfiguration(AutoConfigurations.of(ReliableStoreJtaAutoConfiguration.class,
                    org.springframework.boot.autoconfigure.transaction.TransactionAutoConfiguration.class))
                    .withPropertyValues(SharedNarayana.properties());
        }
        return runner.withPropertyValues("reliablestore.options.resourceGroupName=RG", "reliablestore.options.registryKeyPath=Software/App",
                        "reliablestore.options.sites.paris=embedded:" + dir.resolve("paris"),
                        "reliablestore.options.sites.rome=embedded:" + dir.resolve("rome"),
                        "reliablestore.options.localSite=paris", "reliablestore.options.siteReplicationDelay=0ms");
    }

    private static void assertSiteMeters(org.springframework.boot.test.context.assertj.AssertableApplicationContext context) {
        assertThat(context).hasNotFailed();
        MeterRegistry meters = context.getBean(MeterRegistry.class);
        // paris holds its site's shipper lease (it is the only factory there) and reaches rome
        await().atMost(Duration.ofSeconds(30)).until(() -> meters.find("reliablestore.site.shipping").tag("site", "paris")
                .tag("target", "rome").gauge() != null
                && meters.get("reliablestore.site.shipping").tag("site", "paris").tag("target", "rome").gauge().value() == 1);
        assertThat(meters.get("reliablestore.site.replication.lag").tag("target", "rome").gauge()).isNotNull();
    }

    @Test
    void withoutActuatorAndMicrometerOnlyTheFactoryAndEventsAreConfigured() {
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"))) {
            runner(registry).withClassLoader(new FilteredClassLoader("org.springframework.boot.actuate", "io.micrometer")).run(context -> {
                assertThat(context).hasNotFailed().hasSingleBean(StoreFactory.class).hasSingleBean(StoreEventBridge.class)
                        .doesNotHaveBean("reliableStoreHealthIndicator").doesNotHaveBean("reliableStoreMeters");
            });
        }
    }

    @Test
    void theHealthIndicatorIsSwitchedOffLikeActuatorsOwn() {
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"))) {
            runner(registry).withPropertyValues("management.health.reliablestore.enabled=false")
                    .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean("reliableStoreHealthIndicator"));
        }
    }
}
