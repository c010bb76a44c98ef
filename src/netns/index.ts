/** The netns room's public surface (what `bin/` wires): namespace VPCs (issue 8 §1). */
export {
  latticeAddresses,
  NAMESPACE_LINK,
  VpcNamespaces,
  type NetnsLogger,
  type VpcNamespacesOptions,
} from './vpc-namespaces.js';
export { defaultSlotDir } from './lattice-slots.js';
