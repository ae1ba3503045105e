import { PageHeader } from '../components/ui';

export function ModelsPage() {
  return (
    <section aria-labelledby="page-title" className="page">
      <PageHeader title="Models" />
    </section>
  );
}
