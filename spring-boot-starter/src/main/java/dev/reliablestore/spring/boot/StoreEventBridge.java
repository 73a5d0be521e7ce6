package dev.reliablestore.spring.boot;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryUtils;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.ConfigurableBeanFactory;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ApplicationContextAware;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.PayloadApplicationEvent;
import org.springframework.context.event.ApplicationEventMulticaster;
import org.springframework.context.support.AbstractApplicationContext;

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
 *
 * <p>In a hierarchy of contexts each event reaches each context once. A bridge follows the store beans
 * of its context's ancestors too (the child's listeners would not hear of them otherwise: Spring forwards
 * events from a child to its parent, never down) and hands each event to its own context and to each
 * ancestor's listeners directly, not through {@code publishEvent}, which would forward it up again. An
 * ancestor thus hears of it from its own bridge, if it has one, and from each descendant's: the copies
 * are told apart by the context they are for, across all bridges.
 */
final class StoreEventBridge implements SmartInitializingSingleton, DisposableBean, BeanFactoryAware, ApplicationContextAware {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(StoreEventBridge.class);

    /**
     * What each context was last given on each event thread, for all bridges: a context's own bridge and those of
     * its descendants all deliver to it. A factory hands each event, as one instance, to the listeners of its
     * stores one after the other on its event thread (a cluster-wide one to those of all its stores): seen twice
     * in a row for one context, it is a copy. Per thread, as two factories' threads interleave; weak, so that a
     * closed context is not kept by the thread of a factory that outlives it.
     */
    private static final ThreadLocal<Map<ApplicationContext, Delivered>> DELIVERED = ThreadLocal.withInitial(WeakHashMap::new);

    private final List<ObservableStore.Registration> registrations = new CopyOnWriteArrayList<>();
    private volatile Map<StoreFactory, Observed> byFactory = Map.of();
    private ListableBeanFactory beans;
    private ApplicationContext context;

    @Override
    public void setBeanFactory(BeanFactory beanFactory) {
        if (!(beanFactory instanceof ListableBeanFactory listable)) {
            throw new IllegalStateException("the store event bridge needs a ListableBeanFactory, not " + beanFactory.getClass().getName());
        }
        this.beans = listable;
    }

    @Override
    public void setApplicationContext(ApplicationContext applicationContext) {
        this.context = applicationContext;
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
            registrations.add(observable.addListener(event -> onEvent(of, observable, event)));
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
            if (definedIn(beans, name) instanceof ConfigurableListableBeanFactory configurable && configurable.containsBeanDefinition(name)
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

    private void onEvent(Observed factory, ObservableStore store, StoreEvent event) {
        if (factory != null) {
            factory.record(event);
        }
        Map<ApplicationContext, Delivered> delivered = DELIVERED.get();
        for (ApplicationContext target = context; target != null; target = target.getParent()) {
            boolean first = delivered.computeIfAbsent(target, t -> new Delivered()).first(store, event);
            if (!(target instanceof ConfigurableApplicationContext configurable)) {
                if (first) {
                    target.publishEvent(event); // its listeners cannot be reached alone; it forwards the event to its ancestors itself
                }
                return;
            }
            if (first && configurable.isActive()) {
                try {
                    multicast(configurable, event);
                } catch (RuntimeException | Error e) {
                    // Spring's multicaster has no error handler by default: a listener's exception would end this loop,
                    // and the ancestors' listeners, marked as not yet delivered, would never get the event
                    LOG.warn("a listener in {} failed on {}; the event still goes to the other contexts", target.getDisplayName(), event, e);
                }
            }
        }
    }

    /** To {@code target}'s own listeners, as its {@code publishEvent} would, without forwarding to its parent. */
    private static void multicast(ConfigurableApplicationContext target, StoreEvent event) {
        PayloadApplicationEvent<StoreEvent> wrapped = new PayloadApplicationEvent<>(target, event);
        target.getBeanFactory().getBean(AbstractApplicationContext.APPLICATION_EVENT_MULTICASTER_BEAN_NAME, ApplicationEventMulticaster.class)
                .multicastEvent(wrapped, wrapped.getResolvableType());
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

    /** What one context was last given on one event thread, and the failure in force there. */
    private static final class Delivered {
        private StoreEvent last;
        private StoreEvent.HealthCheckFailed failure;
        private StoreEvent.ConflictResolved lastOwn;
        private ObservableStore lastOwner;

        /** Whether {@code event}, told to a listener of {@code store}, is new to the context. */
        boolean first(ObservableStore store, StoreEvent event) {
            if (event instanceof StoreEvent.ConflictResolved own) {
                // once per store: a conflict settled at another site is told, as one instance, to every store of its type
                if (own == lastOwn && store == lastOwner) {
                    return false;
                }
                lastOwn = own;
                lastOwner = store;
                return true;
            }
            if (event == last) {
                return false;
            }
            last = event;
            if (event instanceof StoreEvent.HealthCheckFailed f) {
                if (f == failure) {
                    return false; // the failure in force, told again to another store's listener (one added later gets it first)
                }
                failure = f;
            } else if (event instanceof StoreEvent.HealthRestored) {
                failure = null;
            }
            return true;
        }
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
