// Mapping published checkpoints' tensor names onto our networks.
//
// Layouts (key maps) this knows:
//   torchvision  the names our nets already use: torchvision's vgg16 and
//                vgg16_bn (features.N, classifier.N), resnet18 (conv1, bn1, layer1..4,
//                fc; also what DAN/DACL's resnet18_msceleb.pth uses), and our
//                own Auto-Encoder (encoder., decoder.). Identity.
//   vggface      Albanie's port of VGG-Face (vgg_face_dag.pth): conv1_1 ..
//                conv5_3 -> features.{0,2,5,7,10,12,14,17,19,21,24,26,28},
//                fc6, fc7, fc8 -> classifier.{0,3,6}. A fully connected
//                weight stored conv-shaped ([4096, 512, 7, 7], [4096, 4096, 1, 1])
//                is flattened to [out, in*kh*kw], which is the same linear map
//                on a flattened [C, 7, 7] input.
//   dream        DREAM's ResNet-18 (ijba_res18_naive.pth.tar, also SCN's
//                pre-training): torchvision's backbone names, plus `feature`
//                (Linear 512 -> 256), `fc` on top of it (256 -> identities)
//                and, in the end-to-end model, `fc1`/`fc2`. The backbone maps
//                by name; the layers above the pooled feature have no place in
//                our ResNet-18 and are dropped.
// 'module.' prefixes (nn.DataParallel) are stripped by the checkpoint reader.
//
// The head: when the checkpoint's classifier (classifier.6 of VGG16, fc of
// ResNet-18) has another class count than ours (2,622 VGG-Face identities,
// 87,020 MS-Celeb ones, 1,000 ImageNet classes), it is dropped and our
// freshly initialised head stays. A head whose input width differs is a
// shape mismatch like any other.
//
// Strictness: every tensor that maps must exist in our net with the same
// shape (else one error listing all mismatches, with the likely cause); every
// tensor of our net must come from the checkpoint, except the head and
// BatchNorm's num_batches_tracked (absent from checkpoints older than torch
// 0.4.1, such as torchvision's resnet18-5c106cde.pth), which keep their fresh
// values and are reported as initialised.
#pragma once

#include <string>
#include <vector>

#include "engine/nn/module.h"

namespace sceald::nets {

enum class Arch { VGG16, VGG16BN, ResNet18, VGG10AutoEncoder };
// "vgg16", "vgg16_bn", "resnet18", "vgg10ae"; anything else is an error listing them.
Arch parse_arch(const std::string& name);
const char* arch_name(Arch arch);

enum class KeyMap { Auto, Torchvision, VGGFace, Dream };
// "auto", "torchvision", "vggface", "dream".
KeyMap parse_key_map(const std::string& name);
const char* key_map_name(KeyMap key_map);

// The architecture and key map a state_dict's names point to, or an error
// naming the first few names when they fit none of the layouts above.
struct DetectedLayout {
  Arch arch;
  KeyMap key_map;
};
DetectedLayout detect_layout(const nn::NamedTensors& source, const std::string& source_name);

// The key map to read `source` with for an `arch` network: `key_map` itself,
// or for Auto the detected one. Throws when the names point to another arch
// or when the key map does not fit `arch` (vggface is for vgg16, dream for
// resnet18). Cheap: looks at names only.
KeyMap resolve_key_map(const nn::NamedTensors& source, Arch arch, KeyMap key_map, const std::string& source_name);

struct MatchedKey {
  std::string source;  // the checkpoint's name
  std::string target;  // ours
  std::string note;    // e.g. "reshaped [64, 8, 7, 7] -> [64, 392]"; empty when copied as is
};
struct DroppedKey {
  std::string source;
  std::string reason;
};

struct MappedState {
  KeyMap key_map = KeyMap::Torchvision;  // the one used (never Auto)
  nn::NamedTensors tensors;               // our names and shapes, ready for load_state_dict(strict = false)
  std::vector<MatchedKey> matched;
  std::vector<DroppedKey> dropped;
  std::vector<std::string> initialised;  // ours, not provided: they keep the values `target` was built with
};

// Maps `source` (a state_dict in `key_map`'s names; Auto detects it) onto
// `target`, an `arch` network already built with the wanted class count and
// widths. Throws, naming `source_name`, when the layout does not fit `arch`,
// when shapes mismatch, when tensors of our net are missing, or when nothing
// maps at all.
MappedState map_state_dict(const nn::NamedTensors& source, Arch arch, KeyMap key_map, const nn::Module& target,
                           const std::string& source_name);

}  // namespace sceald::nets
