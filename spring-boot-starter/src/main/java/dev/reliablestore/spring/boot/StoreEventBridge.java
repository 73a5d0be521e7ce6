package dev.reliablestore.spring.boot;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryUtils;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.ConfigurableBeanFactory;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.context.ApplicationEventPublisher;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.ObservableStore;
import dev.reliablestore.api.StoreEvent;
import dev.reliablestore.api.StoreFactory;

/**
 * Listens to the context's {@link EntityStore} beans and republishes their {@link StoreEvent}s as
 * Spring application events (on the store's event thread), keeping the last health verdict of each
 * {@link StoreFactory} bean for the health indicator. Stores are the only public source of events, and
 * opening one just to listen would create an entity type in the application's data, hence the beans.
 *
 * <p>A store does not say which factory it came from, so a store bean is taken for the factory bean
 * Spring gave it: the one its bean method takes (or that method's configuration class is injected
 * with). With one factory bean every store bean is taken for that one; with several, a store bean
 * given none of them, or more than one, counts for no factory (it could be any one's).
 */
final class StoreEventBridge implements SmartInitializingSingleton, DisposableBean, BeanFactoryAware {

    private final ApplicationEventPublisher publisher;
    private final List<ObservableStore.Registration> registrations = new CopyOnWriteArrayList<>();
    /**
     * What was last republished on each event thread. A factory hands each cluster-wide event (health,
     * failover), as one instance, to the listeners of all its stores one after the other on its event
     * thread: seen twice in a row there, it is a copy. Per thread, as two factories' threads interleave.
     */
    private final ThreadLocal<Delivered> delivered = ThreadLocal.withInitial(Delivered::new);
    private volatile Map<StoreFactory, Observed> byFactory = Map.of();
    private ListableBeanFactory beans;

    StoreEventBridge(ApplicationEventPublisher publisher) {
        this.publisher = publisher;
    }

    @Override
    public void setBeanFactory(BeanFactory beanFactory) {
        if (!(beanFactory instanceof ListableBeanFactory listable)) {
            throw new IllegalStateException("the store event bridge needs a ListableBeanFactory, not " + beanFactory.getClass().getName());
        }
        this.beans = listable;
    }

    @Override
    public void afterSingletonsInstantiated() {
        // a parent context's beans too, as an ObjectProvider gives them (the factory may live there)
        Set<String> factoryNames = Set.of(BeanFactoryUtils.beanNamesForTypeIncludingAncestors(beans, StoreFactory.class));
        Map<StoreFactory, Observed> groups = new IdentityHashMap<>();
        for (Map.Entry<String, EntityStore<?>> store : storeBeans(beans).entrySet()) {
            String name = store.getKey();
            ObservableStore observable = observable(store.getValue());
            if (observable == null) {
                continue;
            }
            String factoryName = factoryNames.size() == 1 ? factoryNames.iterator().next() : factoryOf(name, factoryNames);
            Observed group = null;
            if (factoryName != null && beans.isSingleton(factoryName)) {
                group = groups.computeIfAbsent(beans.getBean(factoryName, StoreFactory.class), f -> new Observed());
                group.stores++;
            }
            Observed of = group;
            registrations.add(observable.addListener(event -> onEvent(of, event)));
        }
        byFactory = Collections.unmodifiableMap(groups);
    }

    /**
     * The EntityStore beans by name, a parent context's too: those an {@code ObjectProvider<EntityStore<?>>} gives,
     * with their names.
     */
    static Map<String, EntityStore<?>> storeBeans(ListableBeanFactory beans) {
        Map<String, EntityStore<?>> stores = new LinkedHashMap<>();
        for (String name : BeanFactoryUtils.beanNamesForTypeIncludingAncestors(beans, EntityStore.class)) {
            BeanFactory owner = definedIn(beans, name);
            if (owner != beans && owner instanceof ListableBeanFactory ancestor && ancestor.getBeanNamesForType(StoreEventBridge.class).length > 0) {
                continue; // an ancestor's own bridge follows it, and its events reach this context through the parent
            }
            if (owner instanceof ConfigurableListableBeanFactory configurable && configurable.containsBeanDefinition(name)
                    && !configurable.getBeanDefinition(name).isAutowireCandidate()) {
                continue; // such as the target behind a scoped proxy: only its scope can give it
            }
            stores.put(name, beans.getBean(name, EntityStore.class));
        }
        return stores;
    }

    /** The context (this one or an ancestor) that defines {@code name}, or {@code beans} when none says so. */
    private static org.springframework.beans.factory.BeanFactory definedIn(ListableBeanFactory beans, String name) {
        org.springframework.beans.factory.BeanFactory at = beans;
        while (at instanceof ListableBeanFactory listable && !listable.containsBeanDefinition(name)
                && at instanceof org.springframework.beans.factory.HierarchicalBeanFactory hierarchical
                && hierarchical.getParentBeanFactory() != null) {
            at = hierarchical.getParentBeanFactory();
        }
        return at;
    }

    /**
     * The one factory bean {@code store}'s bean method was given as a parameter; null when none or several. Only
     * a parameter counts: Spring records no dependency for an {@code ObjectProvider} or {@code @Lazy} one, and a
     * factory injected elsewhere (its configuration class) may not be the one the method used.
     */
    private String factoryOf(String store, Set<String> factoryNames) {
        if (!(definedIn(beans, store) instanceof ConfigurableBeanFactory configurable)) {
            return null;
        }
        List<String> found = java.util.Arrays.stream(configurable.getDependenciesForBean(store)).filter(factoryNames::contains)
                .distinct().toList();
        return found.size() == 1 ? found.get(0) : null;
    }

    /** The store's events, also through a wrapper such as a JTA-aware store; null when it has none. */
    private static ObservableStore observable(EntityStore<?> store) {
        if (store instanceof ObservableStore observable) {
            return observable;
        }
        try {
            return store.unwrap(ObservableStore.class);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private void onEvent(Observed factory, StoreEvent event) {
        if (factory != null) {
            factory.record(event);
        }
        Delivered here = delivered.get();
        if (!(event instanceof StoreEvent.ConflictResolved)) {
            if (here.last == event) {
                return;
            }
            here.last = event;
        }
        if (event instanceof StoreEvent.HealthCheckFailed f) {
            if (f == here.failure) {
                return; // the failure in force, told again to another store's listener (one added later gets it first)
            }
            here.failure = f;
        } else if (event instanceof StoreEvent.HealthRestored) {
            here.failure = null;
        }
        publisher.publishEvent(event);
    }

    /** What the store beans of {@code factory} (a StoreFactory bean) reported; null when none of them reports events. */
    Observed of(StoreFactory factory) {
        return byFactory.get(factory);
    }

    @Override
    public void destroy() {
        registrations.forEach(ObservableStore.Registration::close);
        registrations.clear();
    }

    /** The last republished event, and failure in force, on one event thread. */
    private static final class Delivered {
        StoreEvent last;
        StoreEvent.HealthCheckFailed failure;
    }

    /**
     * The health of one factory as its store beans report it. Each listener of them records each
     * event: they get the factory's events one after the other on its event thread, so the last
     * recorded is the factory's verdict.
     */
    static final class Observed {
        private int stores;
        private volatile StoreEvent.HealthCheckFailed failure;
        private volatile StoreEvent.NodeFailover failover;

        private void record(StoreEvent event) {
            if (event instanceof StoreEvent.HealthCheckFailed f) {
                failure = f;
            } else if (event instanceof StoreEvent.HealthRestored) {
                failure = null;
            } else if (event instanceof StoreEvent.NodeFailover n) {
                failover = n;
            }
        }

        /** How many store beans of the factory are observed. */
        int stores() {
            return stores;
        }

        /** The failed check not followed by a restored one, or null. */
        StoreEvent.HealthCheckFailed failure() {
            return failure;
        }

        /** The last change of primary node, or null when none was seen. */
        StoreEvent.NodeFailover failover() {
            return failover;
        }
    }
}
