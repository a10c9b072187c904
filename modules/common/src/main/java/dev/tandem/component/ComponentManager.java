package dev.tandem.component;

import dev.tandem.cluster.ConfigVersion;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts components in the order given and stops them in reverse (a failed start stops what already
 * started). Delivers each new config version to each component on that component's own thread,
 * coalescing: a component busy with version 5 is next given the newest version, not 6, 7 and 8 in turn.
 */
public final class ComponentManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ComponentManager.class);

    private final List<Managed> started = new CopyOnWriteArrayList<>();

    public void start(List<Component> components, ComponentContext context) throws Exception {
        // listen first: a version applied while components start must not be missed (offers coalesce)
        context.cluster().addConfigListener(version -> started.forEach(m -> m.offer(version)));
        for (Component component : components) {
            try {
                component.start(context);
            } catch (Exception e) {
                LOG.error("component {} failed to start; stopping the ones already started", component.name(), e);
                close();
                throw e;
            }
            Managed managed = new Managed(component);
            started.add(managed);
            managed.offer(context.cluster().running());
        }
    }

    @Override
    public void close() {
        List<Managed> reversed = new ArrayList<>(started);
        Collections.reverse(reversed);
        for (Managed managed : reversed) managed.stop();
        started.clear();
    }

    private static final class Managed {
        private final Component component;
        private final ExecutorService thread;
        private final AtomicReference<ConfigVersion> pending = new AtomicReference<>();
        private long appliedVersion = -1;

        Managed(Component component) {
            this.component = component;
            this.thread = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "apply-" + component.name());
                t.setDaemon(true);
                return t;
            });
        }

        void offer(ConfigVersion version) {
            if (pending.getAndSet(version) == null) thread.execute(this::applyPending);
        }

        private void applyPending() {
            ConfigVersion version = pending.getAndSet(null);
            if (version == null || version.version() < appliedVersion) return;
            try {
                component.apply(version);
                appliedVersion = version.version();
            } catch (Exception e) {
                LOG.error("component {} failed to apply config version {}", component.name(), version.version(), e);
            }
        }

        void stop() {
            thread.shutdownNow();
            try {
                thread.awaitTermination(10, TimeUnit.SECONDS);
                component.stop();
            } catch (Exception e) {
                LOG.warn("component {} did not stop cleanly", component.name(), e);
            }
        }
    }
}
