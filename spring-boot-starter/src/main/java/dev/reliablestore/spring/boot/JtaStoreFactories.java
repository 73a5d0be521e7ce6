package dev.reliablestore.spring.boot;

import org.springframework.beans.BeansException;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.beans.factory.config.ConfigurableBeanFactory;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.spi.tx.TransactionalResource;
import dev.reliablestore.tx.jta.NarayanaJta;

/**
 * Makes every StoreFactory bean whose provider supports transactions a {@link JtaStoreFactory}
 * (the auto-configured one and an application's own alike) and has it closed before NarayanaJta.
 * A post-processor rather than a wrapping bean method, so an application's own factory bean joins too.
 */
final class JtaStoreFactories implements BeanPostProcessor, BeanFactoryAware {

    private final ObjectProvider<NarayanaJta> jta;
    private BeanFactory beans;

    JtaStoreFactories(ObjectProvider<NarayanaJta> jta) {
        this.jta = jta;
    }

    @Override
    public void setBeanFactory(BeanFactory beanFactory) {
        this.beans = beanFactory;
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String name) throws BeansException {
        if (!(bean instanceof StoreFactory factory) || !(bean instanceof TransactionalResource)) {
            return bean;
        }
        NarayanaJta narayana;
        try {
            narayana = jta.getObject();
        } catch (RuntimeException | Error failed) {
            // Spring registers the factory's destroy callback only once this returns: closed here, or it keeps its registry open
            try {
                factory.close();
            } catch (RuntimeException closing) {
                failed.addSuppressed(closing);
            }
            throw failed;
        }
        if (beans instanceof ConfigurableBeanFactory configurable && beans instanceof ListableBeanFactory listable) {
            // the factory is destroyed (closed) before the transaction manager it enlists with
            for (String jtaName : listable.getBeanNamesForType(NarayanaJta.class, false, false)) {
                configurable.registerDependentBean(jtaName, name);
            }
        }
        // recovery must see the factory from startup: a crashed process's prepared branches would otherwise wait
        // until the first store is taken (repositories open theirs on first use) while they hold their entities' locks
        narayana.addRecoveryResource(TransactionalResource.from(factory));
        return new JtaStoreFactory(factory, narayana);
    }
}
