// The catalog (/api/catalog): levels, programs, groups and every closed set
// of values the commands accept. Forms take their choices from it, so a
// group added to the catalog shows up without a change here.

import { getJSON } from './api.js';
import { levelLabel, levelRank } from './format.js';

let pending = null;

/**
 * loadCatalog answers the catalog, fetched once per page load; refresh
 * fetches it again (a group was defined or changed meanwhile).
 */
export function loadCatalog({ refresh = false } = {}) {
  if (!pending || refresh) {
    pending = getJSON('/api/catalog').then(index).catch((err) => {
      pending = null;
      throw err;
    });
  }
  return pending;
}

function index(c) {
  c.programById = new Map(c.programs.map((p) => [p.id, p]));
  c.groupById = new Map(c.groups.map((g) => [g.id, g]));
  return c;
}

/** programOptions lists programs grouped by level, most intensive first, for a select. */
export function programOptions(catalog, keep = () => true) {
  const byLevel = new Map();
  for (const p of catalog.programs) {
    if (!keep(p)) continue;
    if (!byLevel.has(p.level)) byLevel.set(p.level, []);
    byLevel.get(p.level).push({ value: p.id, label: p.name });
  }
  return [...byLevel.entries()]
    .sort(([a], [b]) => levelRank(a) - levelRank(b))
    .map(([level, options]) => ({ group: levelLabel(level), options }));
}

/** groupOptions lists groups grouped by level, for a select. */
export function groupOptions(catalog, keep = () => true) {
  const byLevel = new Map();
  for (const g of catalog.groups) {
    if (!keep(g)) continue;
    if (!byLevel.has(g.level)) byLevel.set(g.level, []);
    const suffix = g.status === 'running' ? '' : ' (not running)';
    byLevel.get(g.level).push({ value: g.id, label: g.name + suffix });
  }
  return [...byLevel.entries()]
    .sort(([a], [b]) => levelRank(a) - levelRank(b))
    .map(([level, options]) => ({ group: levelLabel(level), options: options.sort((x, y) => x.label.localeCompare(y.label)) }));
}

/** groupName names a group by its ID, falling back to the ID. */
export function groupName(catalog, id) {
  return catalog.groupById.get(id)?.name || id;
}

/** programName names a program by its ID, falling back to the ID. */
export function programName(catalog, id) {
  return catalog.programById.get(id)?.name || id;
}
